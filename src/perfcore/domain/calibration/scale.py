"""Rating scales and explicit value → bucket mappings.

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
from perfcore.domain.review_scoring import RatingScale as AnyRatingScale
from perfcore.domain.values import as_decimal

__all__ = ["BucketMapping", "RatingScale"]


def _step(value: object) -> Decimal:
    return as_decimal(value, field="scale.step")


@frozen
class RatingScale(AnyRatingScale):
    """A *stepped* rating scale: ``minimum``, ``minimum + step``, …, ``maximum`` (Decimal).

    The review rating scale (:class:`perfcore.domain.review_scoring.RatingScale`) narrowed so
    that ``step`` is always a Decimal: calibrated values are discrete. Validation,
    :meth:`check`, :attr:`values`, :meth:`clamp` and :meth:`round_to_step` are inherited.

    Raises:
        InvalidValue: ``minimum >= maximum`` (field ``scale``), a missing, non-positive or
            non-dividing ``step`` (field ``scale.step``).
    """

    step: Decimal = field(converter=_step, default=Decimal(1))


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

    The mapping is configuration, never inferred (perfcore's rule; e.g.
    ``{1, 2} → L, {3} → M, {4, 5} → H`` for a 9-box axis).

    Raises (on construction):
        InvalidValue: a mapped bucket missing from ``order``, repeated bucket names (field
            ``order``), an empty bucket name or a non-numeric rating (``mapping[<rating>]``).
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
        """Build from ``{bucket: [ratings...]}`` given low → high (dict order is kept).

        Raises:
            InvalidValue: a rating that is not a number or appears in two buckets
                (``buckets.<name>``).
        """
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
