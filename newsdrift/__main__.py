"""``python -m newsdrift``: the command line."""

from newsdrift.cli import main

main()
