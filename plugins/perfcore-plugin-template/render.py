"""Render this template into a new plugin package.

    python render.py --domain mes --system acme --dest ../perfcore-mes-acme

Copies every file, replacing the template's names (``perfcore-example-widgets``,
``perfcore_example_widgets``, ``example_widgets``, ``Widgets``, ``widgets``) in file contents and
paths. ``render.py`` itself is not copied.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"render.py", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_NAME = re.compile(r"^[a-z][a-z0-9]*$")


def replacements(domain: str, system: str) -> list[tuple[str, str]]:
    """Template token -> rendered text, longest tokens first."""
    return [
        ("perfcore-example-widgets", f"perfcore-{domain}-{system}"),
        ("perfcore_example_widgets", f"perfcore_{domain}_{system}"),
        ("example_widgets", f"{domain}_{system}"),
        ("Widgets", system.capitalize()),
        ("widgets", system),
    ]


def render(domain: str, system: str, dest: Path) -> Path:
    """Write the rendered package to ``dest`` (must not exist); return ``dest``."""
    for label, value in (("domain", domain), ("system", system)):
        if not _NAME.match(value):
            raise SystemExit(f"--{label} must be lower-case letters/digits, got {value!r}")
    if dest.exists():
        raise SystemExit(f"{dest} already exists")
    pairs = replacements(domain, system)

    def sub(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    for path in sorted(HERE.rglob("*")):
        rel = path.relative_to(HERE)
        if any(part in SKIP for part in rel.parts) or path.is_dir():
            continue
        target = dest / sub(str(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_text(sub(path.read_text(encoding="utf-8")), encoding="utf-8")
        except UnicodeDecodeError:
            shutil.copy2(path, target)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True, help="e.g. mes, hris, crm, notify")
    parser.add_argument("--system", required=True, help="e.g. acme")
    parser.add_argument("--dest", required=True, type=Path)
    args = parser.parse_args()
    print(render(args.domain, args.system, args.dest))


if __name__ == "__main__":
    main()
