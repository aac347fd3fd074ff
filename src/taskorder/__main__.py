"""``python -m taskorder`` runs the command line."""

from taskorder.cli import main

main()
