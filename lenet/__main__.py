"""`python -m lenet ...`: the same command line as the installed `lenet` script."""

import sys

from lenet.cli import main

sys.exit(main())
