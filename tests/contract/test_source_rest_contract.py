"""REST source with httpx.MockTransport: contract, JSONPath mapping, paging guards."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from perfcore.domain.errors import InvalidValue
from perfcore.plugins.registry import SourceRegistry
from perfcore.ports.sources import EvidenceSource, FieldType
from perfcore.testing.sources import EvidenceSourceContract, read_all
from perfcore_adapters.http import AuthFailed, RetryPolicy
from perfcore_adapters.sources.jsonpath import compile_path, extract
from perfcore_adapters.sources.rest import (
    FieldMap,
    PaginationError,
    Paging,
    RestConfig,
    RestSource,
    RestStream,
)

DEALS = [
    {
        "id": 1,
        "properties": {"amount": "1200.50", "closedate": "2025-03-01T10:00:00Z"},
        "owner": {"email": "li@example.com"},
    },
    {
        "id": 2,
        "properties": {"amount": "80", "closedate": "2025-03-02T09:30:00+08:00"},
        "owner": {"email": "wang@example.com"},
    },
    {"id": 3, "properties": {"amount": "lots", "closedate": "2025-03-03T00:00:00Z"}},
]


def _handler(request: httpx.Request) -> httpx.Response:
    after = request.url.params.get("after")
    if after is None:
        return httpx.Response(200, json={"results": DEALS[:2], "paging": {"next": {"after": "2"}}})
    return httpx.Response(200, json={"results": DEALS[2:], "paging": {}})


def _source(handler: object = _handler) -> RestSource:
    stream = RestStream(
        name="deals",
        path="crm/v3/objects/deals",
        occurred_at="$.properties.closedate",
        records_path="$.results",
        fields={
            "amount": FieldMap("$.properties.amount", FieldType.NUMBER),
            "owner": FieldMap("$.owner.email"),
        },
        paging=Paging("cursor", cursor_param="after", cursor_path="$.paging.next.after"),
    )
    config = RestConfig(base_url="https://crm.test/", streams=[stream])
    return RestSource(
        config,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        retry=RetryPolicy.for_tests(),
    )


class TestRestSourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return _source()


def test_json_paths_map_nested_fields_and_bad_values_become_rejections() -> None:
    batches = list(_source().read("deals", None))
    records = [r for b in batches for r in b.records]
    assert [(r.external_id, r.data["amount"], r.data["owner"]) for r in records] == [
        ("1", Decimal("1200.50"), "li@example.com"),
        ("2", Decimal(80), "wang@example.com"),
    ]
    assert records[1].occurred_at == datetime(2025, 3, 2, 1, 30, tzinfo=UTC)
    (rejection,) = [j for b in batches for j in b.rejections]
    assert rejection.column == "$.properties.amount"
    assert rejection.location.endswith("after=2#0")


def test_a_repeated_cursor_is_detected_as_a_paging_loop() -> None:
    def looping(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [], "paging": {"next": {"after": "same"}}})

    with pytest.raises(PaginationError):
        list(_source(looping).read("deals", None))


def test_auth_failure_is_not_retried_and_check_reports_it() -> None:
    calls: list[int] = []

    def denied(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(401, json={"message": "expired"})

    source = _source(denied)
    result = source.check()
    assert not result.ok
    assert "401" in result.detail
    with pytest.raises(AuthFailed):
        list(source.read("deals", None))
    assert len(calls) == 2


def test_bearer_token_is_sent() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json=[])

    stream = RestStream(name="s", path="x", occurred_at="$.t")
    config = RestConfig(base_url="https://x.test/", streams=[stream], bearer_token="tok")
    records, _ = read_all(RestSource(config, transport=httpx.MockTransport(handler)), "s")
    assert records == []
    assert seen == ["Bearer tok"]


def test_a_bad_json_path_in_the_config_names_the_stream() -> None:
    stream = RestStream(name="s", path="x", occurred_at="$.a[*]")
    with pytest.raises(InvalidValue) as info:
        RestSource(RestConfig(base_url="https://x.test/", streams=[stream]))
    assert info.value.field == "streams[0].occurred_at"


def test_plan_data_structures_into_a_rest_config() -> None:
    registry = SourceRegistry()
    registry.add("rest", RestSource, RestConfig)
    plan = {
        "base_url": "https://erp.test/",
        "streams": [{"name": "o", "path": "o", "occurred_at": "$.t", "paging": {"style": "pages"}}],
    }
    with pytest.raises(InvalidValue) as info:
        registry.create("rest", plan, path="sources[1].config")
    assert info.value.field == "sources[1].config.streams[0].paging.style"


def test_jsonpath_subset() -> None:
    doc = {"a": {"b": [{"c": 5}]}, "odd key": 1}
    assert compile_path("$.a.b[0].c") == ("a", "b", 0, "c")
    assert extract(doc, "$.a.b[0].c") == 5
    assert extract(doc, "a.b[0].c") == 5
    assert extract(doc, "$['odd key']") == 1
    assert extract(doc, "$.a.b[3].c") is None
    assert extract(doc, "$") == doc


def test_each_partition_keeps_its_own_bookmark() -> None:
    rows = {
        "p1": [{"id": "a", "t": "2025-03-01T08:00:00Z"}, {"id": "b", "t": "2025-03-02T08:00:00Z"}],
        "p2": [{"id": "c", "t": "2025-03-05T08:00:00Z"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=rows[request.url.params["plant"]])

    stream = RestStream(
        name="s", path="x", occurred_at="$.t", partition_param="plant", partitions=["p1", "p2"]
    )
    source = RestSource(
        RestConfig(base_url="https://x.test/", streams=[stream]),
        transport=httpx.MockTransport(handler),
    )
    records, state = read_all(source, "s")
    assert [(r.partition, r.external_id) for r in records] == [
        ("p1", "a"),
        ("p1", "b"),
        ("p2", "c"),
    ]
    assert state.bookmark("s", "p1").value == "2025-03-02T08:00:00+00:00"
    assert state.bookmark("s", "p2").value == "2025-03-05T08:00:00+00:00"
