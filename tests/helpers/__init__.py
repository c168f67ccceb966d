"""The test bench: real local services, Git remotes and an ansible-runner harness."""
