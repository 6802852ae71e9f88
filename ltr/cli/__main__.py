"""``python -m ltr.cli``: the same as the ``ltr`` command."""

import sys

from ltr.cli import main

sys.exit(main())
