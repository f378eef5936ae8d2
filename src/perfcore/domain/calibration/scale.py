"""Rating scales and explicit value → bucket mappings (anchors-domain.md §1.2, §1.3).

A :class:`RatingScale` says which calibrated values are legal (``1..5`` in steps of 1, or
``1..4`` in steps of 0.5). A :class:`BucketMapping` turns a rating into a named bucket — the
mapping is always explicit configuration, e.g. ``{1, 2} → low, {3} → mid, {4, 5} → high``,
because vendors and companies disagree on where the lines are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import as_decimal

__all__ = ["BucketMapping", "RatingScale"]


def _dec(value: object) -> Decimal:
    return as_decimal(value)


@frozen
class RatingScale:
    """The legal values of a rating: ``minimum``, ``minimum + step``, …, ``maximum`` (Decimal).

    Raises:
        InvalidValue: ``minimum >= maximum``, ``step <= 0`` or the range is not a whole number of
            steps (field ``scale.maximum`` / ``scale.step``).
    """

    minimum: Decimal = field(converter=_dec, default=Decimal(1))
    maximum: Decimal = field(converter=_dec, default=Decimal(5))
    step: Decimal = field(converter=_dec, default=Decimal(1))

    def __attrs_post_init__(self) -> None:
        if self.step <= 0:
            raise InvalidValue("step must be positive", field="scale.step", valid="> 0")
        if self.minimum >= self.maximum:
            raise InvalidValue(
                f"maximum {self.maximum} is not above minimum {self.minimum}",
                field="scale.maximum",
                valid=f"> {self.minimum}",
            )
        if (self.maximum - self.minimum) % self.step != 0:
            raise InvalidValue(
                "the range is not a whole number of steps",
                field="scale.step",
                valid=f"a step dividing {self.maximum - self.minimum}",
            )

    @property
    def values(self) -> tuple[Decimal, ...]:
        """Every legal value, ascending."""
        count = int((self.maximum - self.minimum) / self.step)
        return tuple(self.minimum + i * self.step for i in range(count + 1))

    def check(self, value: object, *, field: str = "rating") -> Decimal:
        """Return ``value`` as a Decimal if it is on the scale.

        Raises:
            InvalidValue: not a number, outside ``[minimum, maximum]`` or between steps.
        """
        number = as_decimal(value, field=field)
        if (
            number < self.minimum
            or number > self.maximum
            or (number - self.minimum) % self.step != 0
        ):
            raise InvalidValue(
                f"{number} is not on the rating scale",
                field=field,
                valid=f"{self.minimum}..{self.maximum} in steps of {self.step}",
            )
        return number

    def clamp(self, value: float) -> float:
        """Clamp a float suggestion into ``[minimum, maximum]``."""
        low, high = float(self.minimum), float(self.maximum)
        return low if value < low else high if value > high else value

    def round_to_step(self, value: float) -> float:
        """Round a float suggestion to the nearest step (halves away from the minimum)."""
        low, step = float(self.minimum), float(self.step)
        steps = int((value - low) / step + 0.5) if value >= low else 0
        return self.clamp(low + steps * step)


def _mapping(value: Mapping[Any, str]) -> dict[Decimal, str]:
    result: dict[Decimal, str] = {}
    for key, bucket in value.items():
        if not isinstance(bucket, str) or not bucket:
            raise InvalidValue(
                f"bucket name for rating {key} must be a non-empty text",
                field=f"mapping[{key}]",
                valid="a bucket name such as 'high'",
            )
        result[as_decimal(key, field=f"mapping[{key}]")] = bucket
    return result


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen
class BucketMapping:
    """Explicit map from each rating value to a bucket name, plus the bucket order (low → high).

    Build it with :meth:`of`: ``BucketMapping.of({"low": [1, 2], "mid": [3], "high": [4, 5]})``.

    Attributes:
        mapping: rating value (Decimal) → bucket name.
        order: bucket names from lowest to highest.
    """

    mapping: dict[Decimal, str] = field(converter=_mapping)
    order: tuple[str, ...] = field(converter=_names)

    def __attrs_post_init__(self) -> None:
        used = set(self.mapping.values())
        missing = used - set(self.order)
        if missing:
            raise InvalidValue(
                f"bucket(s) {sorted(missing)} are mapped but not in the bucket order",
                field="order",
                valid=", ".join(self.order),
            )
        if len(set(self.order)) != len(self.order):
            raise InvalidValue("bucket names repeat", field="order", valid="unique names")

    @classmethod
    def of(cls, buckets: Mapping[str, Iterable[object]]) -> BucketMapping:
        """Build from ``{bucket: [ratings...]}`` given low → high (dict order is kept)."""
        mapping: dict[Any, str] = {}
        for name, ratings in buckets.items():
            for rating in ratings:
                key = as_decimal(rating, field=f"buckets.{name}")
                if key in mapping:
                    raise InvalidValue(
                        f"rating {key} is mapped twice ({mapping[key]!r} and {name!r})",
                        field=f"buckets.{name}",
                        valid="each rating in exactly one bucket",
                    )
                mapping[key] = name
        return cls(mapping=mapping, order=tuple(buckets))

    def bucket(self, rating: object, *, field: str = "rating") -> str:
        """Return the bucket of ``rating``.

        Raises:
            InvalidValue: the rating has no bucket; ``valid`` lists the mapped ratings.
        """
        key = as_decimal(rating, field=field)
        try:
            return self.mapping[key]
        except KeyError:
            raise InvalidValue(
                f"rating {key} has no bucket",
                field=field,
                valid=", ".join(str(k) for k in sorted(self.mapping)),
            ) from None

    def float_lookup(self) -> dict[float, int]:
        """Map ``float(rating)`` → bucket index (in :attr:`order`), for fast batch loops."""
        index = {name: i for i, name in enumerate(self.order)}
        return {float(k): index[v] for k, v in self.mapping.items()}
