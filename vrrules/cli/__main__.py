"""``python -m vrrules.cli``: the same as the ``vrrules`` console script."""

import sys

from vrrules.cli import main

sys.exit(main())
