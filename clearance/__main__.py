"""``python -m clearance``: the command line."""

from clearance.cli import main

main()
