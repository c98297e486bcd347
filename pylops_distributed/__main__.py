"""``python -m pylops_distributed``: the ``pylops-distributed`` command (``--version``, clusters)."""

import sys

from pylops_distributed.cli import main

if __name__ == "__main__":
    sys.exit(main())
