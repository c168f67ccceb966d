"""Test-only helpers: KServe's predictor pod, the sync-wave walk, the workflows (the services: sandbox/)."""
