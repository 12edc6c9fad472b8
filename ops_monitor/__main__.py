"""`python -m ops_monitor`: the same as its console script."""

import sys

from ops_monitor.cli import main

sys.exit(main())
