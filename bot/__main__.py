"""``python -m bot ...``: the service and the operator commands."""
from __future__ import annotations

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
