"""REST source against a real HTTP server on 127.0.0.1 (no patching).

Must-show (issue 7): a server answering 429 with Retry-After, then 503 twice, then success ends
with every record exactly once; a server that keeps failing leaves the bookmark where it was and
the error reaches ``perfcore_on_sync_error``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost
from perfcore.plugins.sync import run_sync
from perfcore.ports.sources import Bookmark, FieldType, RecordBatch, SourceState
from perfcore_adapters.http import RetryableStatus, RetryPolicy
from perfcore_adapters.sources.rest import FieldMap, Paging, RestConfig, RestSource, RestStream

T0 = datetime(2025, 3, 1, 8, tzinfo=UTC)
ORDERS = [
    {
        "id": f"SO-{i:03d}",
        "amount": f"{100 + i}.50",
        "updated_at": (T0 + timedelta(minutes=i // 2)).isoformat(),
    }
    for i in range(23)
]

Answer = tuple[int, dict[str, str], object]


class Server:
    """A threaded HTTP server whose answers come from ``respond(path, query)``."""

    def __init__(self, respond: Callable[[str, dict[str, str]], Answer]) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                outer.requests.append(self.path)
                status, headers, body = respond(parts.path, query)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _offset_pages(query: dict[str, str]) -> Answer:
    since = query.get("updated_since")
    rows = [o for o in ORDERS if since is None or o["updated_at"] >= since]
    start, size = int(query["offset"]), int(query["limit"])
    return 200, {}, {"data": rows[start : start + size]}


def _config(base_url: str, paging: Paging, **stream: object) -> RestConfig:
    spec = RestStream(
        name="orders",
        path="orders",
        occurred_at="$.updated_at",
        records_path=stream.pop("records_path", "$.data"),  # type: ignore[arg-type]
        fields={"amount": FieldMap("$.amount", FieldType.NUMBER)},
        paging=paging,
        **stream,  # type: ignore[arg-type]
    )
    return RestConfig(base_url=base_url, streams=[spec], bearer_token="s3cr3t")


@pytest.fixture
def flaky_server() -> Iterator[Server]:
    """Page 2 answers 429 (Retry-After: 2), then 503, 503, then the page."""
    script = [
        (429, {"Retry-After": "2"}, {"error": "slow down"}),
        (503, {}, {}),
        (503, {}, {}),
    ]

    def respond(path: str, query: dict[str, str]) -> Answer:
        if query.get("offset") == "10" and script:
            return script.pop(0)
        return _offset_pages(query)

    with Server(respond) as server:
        yield server


def test_429_then_503_twice_then_success_delivers_every_record_exactly_once(
    flaky_server: Server,
) -> None:
    waits: list[float] = []
    policy = RetryPolicy(jitter=0.0, initial_delay=0.25, sleep=waits.append)
    source = RestSource(
        _config(flaky_server.url, Paging("offset", page_size=10), since_param="updated_since"),
        retry=policy,
    )
    committed: list[RecordBatch] = []
    result = run_sync(source, "orders", None, committed.append)
    source.close()
    assert result.ok
    ids = [r.external_id for b in committed for r in b.records]
    assert sorted(ids) == sorted(o["id"] for o in ORDERS)
    assert len(ids) == len(set(ids)) == 23
    # Retry-After honoured (2 s), then exponential 0.25 * 2**(n-1) for attempts 2 and 3
    assert waits == [2.0, 0.5, 1.0]
    assert sum("offset=10" in r for r in flaky_server.requests) == 4
    last = (T0 + timedelta(minutes=11)).isoformat()
    assert result.state.bookmark("orders") == Bookmark(last, {"SO-022"})


def test_a_source_that_keeps_failing_keeps_its_bookmark_and_reports_the_error() -> None:
    def respond(path: str, query: dict[str, str]) -> Answer:
        if query.get("offset") == "0":
            return _offset_pages(query)
        return 503, {}, {"error": "maintenance"}

    errors: list[tuple[str, str, BaseException]] = []

    class Alerting:
        @hookimpl
        def perfcore_on_sync_error(
            self, source_name: str, stream: str, error: BaseException
        ) -> None:
            errors.append((source_name, stream, error))

    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("alerting", Alerting())])
    before = SourceState().with_bookmark("orders", Bookmark("2025-03-01T07:00:00+00:00", {"x"}))
    with Server(respond) as server:
        config = _config(server.url, Paging("offset", page_size=10), since_param="updated_since")
        source = RestSource(config, retry=RetryPolicy.for_tests(attempts=3))
        committed: list[RecordBatch] = []
        result = run_sync(source, "orders", before, committed.append, host, source_name="erp")
        source.close()
        assert sum("offset=10" in r for r in server.requests) == 3
    assert result.state == before
    assert all(b.state == before for b in committed)
    ((name, stream, error),) = errors
    assert (name, stream) == ("erp", "orders")
    assert isinstance(error, RetryableStatus)
    assert error.status == 503
    assert "s3cr3t" not in str(error)


def test_incremental_sync_sends_watermark_minus_lookback_and_handles_ties() -> None:
    with Server(lambda path, query: _offset_pages(query)) as server:
        config = _config(
            server.url,
            Paging("offset", page_size=10),
            since_param="updated_since",
            lookback_seconds=60,
        )
        source = RestSource(config, retry=RetryPolicy.for_tests())
        # orders 20 and 21 share T0+10min; only SO-020 was delivered last time
        mark = Bookmark((T0 + timedelta(minutes=10)).isoformat(), {"SO-020"})
        state = SourceState().with_bookmark("orders", mark)
        records = [r for b in source.read("orders", state) for r in b.records]
        source.close()
        assert "updated_since=2025-03-01T08%3A09%3A00%2B00%3A00" in server.requests[0]
    # lookback re-reads 08:09 (SO-018, SO-019); SO-020 is skipped as a tie already delivered
    assert [r.external_id for r in records] == ["SO-018", "SO-019", "SO-021", "SO-022"]


@pytest.mark.parametrize("style", ["page", "cursor", "next_link", "link_header"])
def test_every_pagination_style_reads_all_pages(style: str) -> None:
    size = 7

    def respond(path: str, query: dict[str, str]) -> Answer:
        if style == "page":
            page = int(query["page"])
            return 200, {}, {"data": ORDERS[(page - 1) * size : page * size]}
        start = int(query.get("cursor") or query.get("from") or 0)
        chunk = ORDERS[start : start + size]
        more = start + size < len(ORDERS)
        nxt = start + size
        if style == "cursor":
            return 200, {}, {"data": chunk, "meta": {"next": str(nxt) if more else None}}
        link = f"{server.url}orders?from={nxt}"
        if style == "next_link":
            return 200, {}, {"data": chunk, "@odata.nextLink": link if more else None}
        headers = {"Link": f'<{link}>; rel="next"'} if more else {}
        return 200, headers, {"data": chunk}

    paging = Paging(
        style,  # type: ignore[arg-type]
        page_size=size,
        cursor_path="$.meta.next",
        next_path="$['@odata.nextLink']",
    )
    with Server(respond) as server:
        source = RestSource(_config(server.url, paging), retry=RetryPolicy.for_tests())
        records = [r for b in source.read("orders", None) for r in b.records]
        source.close()
        assert len(server.requests) == 4
    assert [r.external_id for r in records] == [o["id"] for o in ORDERS]
