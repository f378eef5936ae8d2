"""Developer and CI sessions: ``nox -s tests typing lint``.

uv is used for virtual environments when it is installed (much faster on a 2-core CI machine),
plain virtualenv otherwise.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "typing", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, contract, integration, e2e, plugins).

    Extra arguments go to pytest: ``nox -s tests -- -k calibration``.
    """
    session.install("-e", ".[test,api]")
    for plugin in sorted(Path("plugins").glob("perfcore-*/pyproject.toml")):
        if plugin.parent.name != "perfcore-plugin-template":
            session.install("-e", str(plugin.parent))
    session.run("pytest", "-q", "-m", "not slow", *session.posargs)


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """``mypy --strict`` on src/, tests/typing/ and this file."""
    session.install("-e", ".[test,api]", "mypy>=1.10", "types-PyYAML", "nox>=2024.3")
    session.run("mypy", "--strict", "src", "tests/typing", "noxfile.py")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Long-running fuzz targets (not on CI's critical path)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-m", "slow", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks that print ratios against same-run baselines: ``nox -s bench -- --quick``."""
    session.install("-e", ".[test,api]")
    session.run("python", "bench/run.py", *session.posargs)
