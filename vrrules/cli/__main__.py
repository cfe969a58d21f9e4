"""``python -m vrrules.cli``: the same as the ``vrrules`` console script."""

import sys

from vrrules.cli import main

# guarded: a worker process the due list starts (spawn) imports this module again
if __name__ == "__main__":
    sys.exit(main())
