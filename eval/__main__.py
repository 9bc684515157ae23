"""``python -m eval``: the benchmark, with the same flags as ``rag eval``."""

import sys

from eval.cli import main

sys.exit(main())
