"""`python -m analyzer` runs the `wba` command line."""

from analyzer.cli import run

run()
