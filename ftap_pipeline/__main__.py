"""`python -m ftap_pipeline` is `ftap`."""

import sys

from ftap_pipeline.cli import main

sys.exit(main())
