import sys

from mlops_bridge.server import main

sys.exit(main())
