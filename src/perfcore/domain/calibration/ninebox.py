"""The 9-box grid: calibrated performance (x) × potential (y), each bucketed low/mid/high
through an explicit :class:`~perfcore.domain.calibration.scale.BucketMapping`
(e.g. ``{1, 2} → L, {3} → M, {4, 5} → H``). Box names are not
standardised across vendors, so labels are configuration; the defaults below are our own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from attrs import field, frozen

from perfcore.domain.calibration.scale import BucketMapping
from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import SubjectRef

__all__ = ["DEFAULT_LABELS", "NineBoxCell", "NineBoxGrid", "NineBoxPlacement"]

#: Default labels by (performance position, potential position), 0 = low … 2 = high.
DEFAULT_LABELS: Mapping[tuple[int, int], str] = {
    (2, 2): "Star — accelerate",
    (2, 1): "High performer — stretch",
    (2, 0): "Trusted professional — retain in role",
    (1, 2): "Emerging talent — develop",
    (1, 1): "Core contributor — develop",
    (1, 0): "Steady contributor — engage",
    (0, 2): "Rough diamond — coach",
    (0, 1): "Inconsistent — coach and clarify",
    (0, 0): "Under-performer — improvement plan",
}


def _three(value: BucketMapping, name: str) -> None:
    if len(value.order) != 3:
        raise InvalidValue(
            f"{name} mapping has {len(value.order)} buckets",
            field=name,
            valid="exactly 3 buckets, low → high",
        )


@frozen
class NineBoxCell:
    """A cell: the two bucket names, ``box`` 1..9 (1 = low/low, 9 = high/high, numbered row by
    row from the bottom: box = 3·potential + performance + 1) and its label."""

    performance: str
    potential: str
    box: int
    label: str


@frozen
class NineBoxPlacement:
    """Where every subject landed; ``unplaced`` maps subjects to the reason (e.g. no potential)."""

    cells: dict[SubjectRef, NineBoxCell]
    unplaced: dict[SubjectRef, str]

    def counts(self) -> dict[int, int]:
        """People per box 1..9 (boxes with nobody are 0)."""
        result = dict.fromkeys(range(1, 10), 0)
        for cell in self.cells.values():
            result[cell.box] += 1
        return result


@frozen
class NineBoxGrid:
    """Performance × potential grid with explicit mappings and configurable labels.

    Attributes:
        performance / potential: rating → L/M/H bucket mappings (3 buckets each, low → high).
        labels: ``(performance bucket, potential bucket)`` → label; missing cells use
            :data:`DEFAULT_LABELS`.

    Raises:
        InvalidValue: a mapping without exactly 3 buckets; a label key naming an unknown bucket
            (field ``labels[<perf>,<pot>]``, valid = the bucket names).
    """

    performance: BucketMapping
    potential: BucketMapping
    labels: dict[tuple[str, str], str] = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        _three(self.performance, "performance")
        _three(self.potential, "potential")
        for perf, pot in self.labels:
            if perf not in self.performance.order or pot not in self.potential.order:
                raise InvalidValue(
                    f"unknown bucket in label key ({perf!r}, {pot!r})",
                    field=f"labels[{perf},{pot}]",
                    valid=f"performance in {list(self.performance.order)}, "
                    f"potential in {list(self.potential.order)}",
                )

    def cell(self, performance: Decimal, potential: Decimal) -> NineBoxCell:
        """The cell for one pair of calibrated ratings.

        Raises:
            InvalidValue: a rating without a bucket (field ``performance`` / ``potential``).
        """
        x_name = self.performance.bucket(performance, field="performance")
        y_name = self.potential.bucket(potential, field="potential")
        x = self.performance.order.index(x_name)
        y = self.potential.order.index(y_name)
        label = self.labels.get((x_name, y_name), DEFAULT_LABELS[(x, y)])
        return NineBoxCell(x_name, y_name, 3 * y + x + 1, label)

    def place(
        self, ratings: Mapping[SubjectRef, tuple[Decimal | None, Decimal | None]]
    ) -> NineBoxPlacement:
        """Place subjects given ``subject → (performance, potential)``; a missing rating leaves
        the subject unplaced with a reason instead of guessing."""
        cells: dict[SubjectRef, NineBoxCell] = {}
        unplaced: dict[SubjectRef, str] = {}
        for subject, (perf, pot) in ratings.items():
            if perf is None or pot is None:
                missing = "performance" if perf is None else "potential"
                unplaced[subject] = f"no calibrated {missing} rating"
                continue
            cells[subject] = self.cell(perf, pot)
        return NineBoxPlacement(cells, unplaced)
