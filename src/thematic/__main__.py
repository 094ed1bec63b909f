"""``python -m thematic``: the same as the ``thematic`` command."""

import sys

from .cli import main

sys.exit(main())
