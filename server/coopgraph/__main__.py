"""`python -m coopgraph` runs the command-line interface."""

from coopgraph.cli import main

if __name__ == "__main__":  # importing it (pytest's doctest collection) runs nothing
    main()
