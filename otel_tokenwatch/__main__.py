"""``python -m otel_tokenwatch`` is ``tokenwatch``."""

import sys

from otel_tokenwatch.cli import main

sys.exit(main())
