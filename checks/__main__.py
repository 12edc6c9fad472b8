"""`python -m checks`: the same as its console script."""

import sys

from checks.cli import main

sys.exit(main())
