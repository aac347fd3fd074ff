"""``python -m taskorder`` runs the command line."""

from taskorder.cli import main

if __name__ == "__main__":
    main()
