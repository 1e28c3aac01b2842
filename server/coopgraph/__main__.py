"""`python -m coopgraph` runs the command-line interface."""

from coopgraph.cli import main

main()
