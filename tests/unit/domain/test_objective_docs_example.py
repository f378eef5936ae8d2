"""The worked example of docs/objectives.md §1, computed independently in the comments."""

from __future__ import annotations

from decimal import Decimal

from perfcore.domain.objective import Objective
from perfcore.domain.objective_tree import ObjectiveTree
from perfcore.domain.values import SubjectRef

PM = SubjectRef.person("plant-manager")
TL_A, TL_B, TL_C = (SubjectRef.person(x) for x in ("TL-A", "TL-B", "TL-C"))


def test_docs_worked_example_plant_oee() -> None:
    """(66−60)/(75−60) = 0.4; (2.5−4)/(2−4) = 0.75; 26/20 = 1.3; line 5 archived.
    Plant = (2×0.4 + 0.75 + 1.3) / 4 = 2.85 / 4 = 0.7125."""
    tree = ObjectiveTree(
        [
            Objective("plant", "Raise plant OEE", owner=PM),
            Objective(
                "line3", owner=TL_A, parent_id="plant", weight=2, baseline=60, target=75, current=66
            ),
            Objective(
                "line4",
                owner=TL_B,
                parent_id="plant",
                baseline="4.0",
                target="2.0",
                current="2.5",
            ),
            Objective("walks", owner=PM, parent_id="plant", target=20, current=26),
            Objective(
                "line5", owner=TL_C, parent_id="plant", baseline=55, target=70, current=50
            ).transition("archived"),
        ]
    )
    assert tree.progress("plant") == Decimal("0.7125")
    parts = {p.child_id: (p.share, p.contribution) for p in tree.explain("plant").parts}
    assert parts == {
        "line3": (Decimal("0.5"), Decimal("0.2")),
        "line4": (Decimal("0.25"), Decimal("0.1875")),
        "walks": (Decimal("0.25"), Decimal("0.325")),
    }
    assert [o.id for o in tree.contributors("plant")] == ["line3", "line4"]
