"""The typer application: one ``Typer`` with the commands registered from their modules."""

from __future__ import annotations

from typing import Annotated

import typer

from perfcore_adapters.cli import _cmd_data, _cmd_report, _cmd_setup, _cmd_sim, _cmd_views, _demo

__all__ = ["app"]

app = typer.Typer(
    name="perfcore",
    help=(
        "perfcore: closed-loop performance management — evidence → scorecards → alerts → "
        "reviews → calibration → incentives. Start with `perfcore demo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"perfcore {version('perfcore')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            typer.echo("perfcore (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """perfcore: closed-loop performance management."""


_cmd_setup.register(app)
_cmd_data.register(app)
_cmd_views.register(app)
_cmd_sim.register(app)
_cmd_report.register(app)
_demo.register(app)
