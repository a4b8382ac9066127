"""Run the command line: `python -m lstm_core train --ticker MSFT ...`."""

import gc
import sys

from lstm_core.cli import main

status = main()
# The command has printed its last line and closed every file it wrote; what remains is the
# interpreter's teardown, whose garbage collections walk every object TensorFlow, pandas and
# statsmodels made, a second or more here (bench/bench_cli_process.py). Frozen objects are
# skipped by those collections only: exit handlers still run and streams are still flushed.
gc.freeze()
sys.exit(status)
