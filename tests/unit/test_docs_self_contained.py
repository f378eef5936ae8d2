"""The published docs and docstrings must not send readers to the private design folder.

``shared/research/...`` and ``shared/design/...`` live next to the repository, not in it, so a user
of the library cannot follow such a pointer — nor a bare ``anchors-<topic>.md``, ``semantics.md``
or ``mission.md``, which name files in that folder. Docs and docstrings cite the public primary
source (standard, paper, vendor page, project docs) or state the rule themselves instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = ("shared/research", "shared/design")
# Private research and design files cited by bare name: anchors-domain.md, anchors-oss.md ...,
# semantics.md and mission.md. A path in the repository such as docs/semantics.md would be public.
FORBIDDEN_NAMES = re.compile(r"\banchors-[a-z]+\.md\b|(?<![\w/.-])(?:semantics|mission)\.md\b")


def _checked_files() -> Iterator[Path]:
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").rglob("*.md"))
    yield from sorted((ROOT / "src").rglob("*.py"))


def _hits() -> list[str]:
    hits: list[str] = []
    for path in _checked_files():
        rel = path.relative_to(ROOT)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(needle in line for needle in FORBIDDEN) or FORBIDDEN_NAMES.search(line):
                hits.append(f"{rel.as_posix()}:{number}: {line.strip()}")
    return hits


def test_checked_files_exist() -> None:
    files = list(_checked_files())
    assert (ROOT / "README.md") in files
    assert any(p.suffix == ".md" for p in files if p.parent.name == "docs")
    assert any(p.suffix == ".py" for p in files)


def test_private_file_names_are_recognised() -> None:
    for line in (
        "see anchors-domain.md §2.1",
        "(anchors-oss.md b.1)",
        'semantics.md "Numbers"',
        "mission.md scenario 3",
    ):
        assert FORBIDDEN_NAMES.search(line), line
    for line in ("docs/performance.md", "docs/semantics.md", "my-semantics.md", "anchors.md"):
        assert not FORBIDDEN_NAMES.search(line), line


def test_no_pointers_into_the_private_design_folder() -> None:
    hits = _hits()
    assert not hits, (
        "docs/docstrings point at files outside the repository; cite the public source or state "
        "the rule instead:\n" + "\n".join(hits)
    )
