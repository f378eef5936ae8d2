"""``python -m perfcore_adapters.cli`` runs the ``perfcore`` command line."""

from perfcore_adapters.cli import main

main()
