"""Invariants of REST paging and SQL keyset reads (hypothesis).

Whatever the page size, number of records or paging style, and wherever a keyset read is
interrupted and resumed, every record is delivered exactly once (paginator
styles after the Meltano Singer SDK, https://github.com/meltano/sdk; keyset/watermark state).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from perfcore.testing.sources import read_all
from perfcore_adapters.http import RetryPolicy
from perfcore_adapters.sources.rest import Paging, RestConfig, RestSource, RestStream
from perfcore_adapters.sources.sql import SqlConfig, SqlSource, SqlStream

T0 = datetime(2025, 1, 1, tzinfo=UTC)
STYLES = ["offset", "page", "cursor", "next_link", "link_header"]


def _server(rows: list[dict[str, str]], size: int, style: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        if style == "offset":
            start = int(q["offset"])
        elif style == "page":
            start = (int(q["page"]) - 1) * size
        else:
            start = int(q.get("cursor") or q.get("from") or 0)
        chunk = rows[start : start + size]
        more = start + size < len(rows)
        body: dict[str, object] = {"items": chunk}
        headers = {}
        if style == "cursor":
            body["next"] = str(start + size) if more else None
        elif style == "next_link" and more:
            body["next"] = f"https://api.test/items?from={start + size}"
        elif style == "link_header" and more:
            headers["Link"] = f'<https://api.test/items?from={start + size}>; rel="next"'
        return httpx.Response(200, json=body, headers=headers)

    return httpx.MockTransport(handler)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(1, 9), st.sampled_from(STYLES))
def test_every_paging_style_delivers_each_record_exactly_once(
    count: int, size: int, style: str
) -> None:
    rows = [
        {"id": f"r{i}", "at": (T0 + timedelta(minutes=i // 3)).isoformat()} for i in range(count)
    ]
    paging = Paging(style, page_size=size, cursor_path="$.next", next_path="$.next")  # type: ignore[arg-type]
    stream = RestStream(
        name="s", path="items", occurred_at="$.at", records_path="$.items", paging=paging
    )
    source = RestSource(
        RestConfig(base_url="https://api.test/", streams=[stream]),
        transport=_server(rows, size, style),
        retry=RetryPolicy.for_tests(),
    )
    records, _ = read_all(source, "s")
    source.close()
    assert [r.external_id for r in records] == [r["id"] for r in rows]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=30),
    st.integers(1, 7),
    st.integers(0, 10),
)
def test_an_interrupted_keyset_read_resumes_without_loss_or_repeat(
    watermarks: list[int], batch: int, stop_after: int
) -> None:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, wm INTEGER, at TEXT)")
        for i, wm in enumerate(watermarks):
            conn.exec_driver_sql(
                "INSERT INTO t VALUES (?, ?, ?)", (i, wm, f"2025-01-01T00:{wm:02d}:00+00:00")
            )
    stream = SqlStream(
        name="t",
        query="SELECT id, wm, at FROM t",
        id_column="id",
        watermark_column="wm",
        occurred_at_column="at",
        batch_size=batch,
    )
    source = SqlSource(SqlConfig("sqlite://", [stream]), engine=engine)
    delivered: list[str] = []
    state = None
    for n, part in enumerate(source.read("t", None)):
        if n == stop_after:
            break  # the process dies here; only committed batches count
        delivered += [r.external_id for r in part.records]
        state = part.state
    rest, _ = read_all(source, "t", state)
    delivered += [r.external_id for r in rest]
    expected = [str(i) for _, i in sorted((wm, i) for i, wm in enumerate(watermarks))]
    assert delivered == expected
    engine.dispose()
