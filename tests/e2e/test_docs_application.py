"""The application-layer docs stay true: the embedding quick start runs and prints what it says,
and every plan field is documented in docs/plan.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from perfcore.plan import model

DOCS = Path(__file__).resolve().parents[2] / "docs"


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_the_embedding_quick_start_runs_in_at_most_20_lines(tmp_path: Path) -> None:
    text = (DOCS / "embedding.md").read_text(encoding="utf-8")
    plan, *_ = blocks(text, "yaml")
    code, *_ = blocks(text, "python")
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 20
    (tmp_path / "plan.yaml").write_text(plan, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0.979"


@pytest.mark.parametrize(
    "cls", [c for c in vars(model).values() if isinstance(c, type) and attrs.has(c)]
)
def test_every_plan_field_is_documented(cls: type) -> None:
    text = (DOCS / "plan.md").read_text(encoding="utf-8")
    missing = [f.name for f in attrs.fields(cls) if f"`{f.name}`" not in text]
    assert missing == [], f"{cls.__name__}: {missing}"
