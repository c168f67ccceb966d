"""Stand-in for pypa's get-pip.py, used by ``ansible-test`` to bootstrap pip.

ansible-test downloads get-pip.py from a host that is unreachable from machines that only
reach PyPI. It runs the script with the target interpreter and pip's own arguments. This
stand-in installs the bundled pip with ``ensurepip`` and then runs ``pip install`` with the
same arguments, minus the flags that only the real script understands.
"""

import subprocess
import sys

DROP = {"--no-setuptools", "--no-wheel"}


def main(argv=None):
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a not in DROP]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
    if args:
        subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
