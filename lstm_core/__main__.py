"""Run the command line: `python -m lstm_core train --ticker MSFT ...`."""

import sys

from lstm_core.cli import main

sys.exit(main())
