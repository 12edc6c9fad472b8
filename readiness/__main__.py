"""`python -m readiness`: the same as its console script."""

import sys

from readiness.cli import main

sys.exit(main())
