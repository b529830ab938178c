"""`python -m portal.cli` runs the same command as the `portal` script."""

import sys

from portal.cli import main

sys.exit(main())
