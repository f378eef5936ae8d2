"""The ``perfcore`` command line (typer + rich).

``main()`` is the console-script entry point (``[project.scripts] perfcore``). Every command takes
``--db`` (default: ``perfcore.db`` in the working directory) and ``--plan``; user errors print one
line plus a hint and exit 1, usage errors exit 2. The reference is ``docs/cli.md``.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the ``perfcore`` command line."""
    from perfcore_adapters.cli._app import app

    app()
