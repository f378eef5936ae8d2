"""RetryPolicy against httpx.MockTransport (no patching).

Retry classification (stamina's opinions, https://github.com/hynek/stamina, plus perfcore's rule):
transport errors and 408/409/429/5xx are retried; other 4xx and quota exhaustion are not;
Retry-After is honoured up to a cap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from perfcore_adapters.http import (
    AuthFailed,
    ClientError,
    QuotaExhausted,
    RateLimited,
    RetryableStatus,
    RetryPolicy,
    TransportFailure,
    make_client,
    parse_retry_after,
    redact_headers,
    redact_url,
)

Handler = Callable[[httpx.Request], httpx.Response]


def _scripted(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[str]]:
    hits: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.method)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), hits


def _policy(waits: list[float], **kw: float) -> RetryPolicy:
    return RetryPolicy(jitter=0.0, initial_delay=0.5, sleep=waits.append, **kw)  # type: ignore[arg-type]


def test_retry_after_is_honoured_then_exponential_backoff() -> None:
    transport, hits = _scripted(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        httpx.Response(503),
        httpx.Response(200, json={"ok": True}),
    )
    waits: list[float] = []
    with make_client("http://erp.test", transport=transport) as client:
        response = _policy(waits).send(client, "GET", "/x")
    assert response.json() == {"ok": True}
    assert len(hits) == 4
    # 7 s from Retry-After, then 0.5 * 2**(n-1) for attempts 2 and 3 (jitter 0)
    assert waits == [7.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, "", ClientError),
        (404, "", ClientError),
        (422, "", ClientError),
        (401, "", AuthFailed),
        (403, "", AuthFailed),
        (403, '[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]', QuotaExhausted),
        (429, '{"policyName":"DAILY"}', QuotaExhausted),
    ],
)
def test_non_retryable_answers_are_tried_once(
    status: int, body: str, error: type[Exception]
) -> None:
    transport, hits = _scripted(httpx.Response(status, text=body))
    with make_client("http://erp.test", transport=transport) as client, pytest.raises(error):
        RetryPolicy.for_tests().send(client, "GET", "/x")
    assert len(hits) == 1


def test_retry_after_beyond_the_cap_means_quota_exhausted() -> None:
    transport, hits = _scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    client = make_client("http://erp.test", transport=transport)
    with client, pytest.raises(QuotaExhausted) as info:
        RetryPolicy(retry_after_cap=60).send(client, "GET", "/x")
    assert info.value.retry_after == 3600
    assert len(hits) == 1


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_exhaust_the_attempt_cap(status: int) -> None:
    transport, hits = _scripted(httpx.Response(status))
    client = make_client("http://erp.test", transport=transport)
    with client, pytest.raises(RetryableStatus) as info:
        RetryPolicy.for_tests(attempts=4).send(client, "GET", "/x")
    assert info.value.status == status
    assert len(hits) == 4


def test_rate_limited_is_a_retryable_status() -> None:
    assert issubclass(RateLimited, RetryableStatus)


def test_transport_errors_are_retried() -> None:
    transport, hits = _scripted(httpx.ConnectError("refused"), httpx.Response(200))
    with make_client("http://erp.test", transport=transport) as client:
        assert RetryPolicy.for_tests().send(client, "GET", "/x").status_code == 200
    assert len(hits) == 2


def test_transport_errors_surface_typed_when_retries_run_out() -> None:
    transport, hits = _scripted(httpx.ReadTimeout("slow"))
    client = make_client("http://erp.test", transport=transport)
    with client, pytest.raises(TransportFailure):
        RetryPolicy.for_tests(attempts=3).send(client, "GET", "/x")
    assert len(hits) == 3


def test_post_without_idempotency_key_is_not_retried() -> None:
    transport, hits = _scripted(httpx.Response(503))
    client = make_client("http://erp.test", transport=transport)
    with client, pytest.raises(RetryableStatus):
        RetryPolicy.for_tests().send(client, "POST", "/x", json={})
    assert len(hits) == 1


def test_post_with_idempotency_key_is_retried_and_sends_the_key() -> None:
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(200 if len(keys) == 2 else 503)

    with make_client("http://erp.test", transport=httpx.MockTransport(handler)) as client:
        RetryPolicy.for_tests().send(client, "POST", "/x", idempotency_key="k-1", json={})
    assert keys == ["k-1", "k-1"]


def test_total_time_budget_stops_retries_before_the_attempt_cap() -> None:
    transport, hits = _scripted(httpx.Response(503, headers={"Retry-After": "3"}))
    waits: list[float] = []
    client = make_client("http://erp.test", transport=transport)
    with client, pytest.raises(RateLimited):
        _policy(waits, total_budget=5.0).send(client, "GET", "/x")
    # waited 3 s, then 3 s more (3 < 5), then 6 >= 5 stops: three attempts, not five
    assert waits == [3.0, 3.0]
    assert len(hits) == 3


def test_zero_backoff_for_tests_never_waits() -> None:
    transport, _ = _scripted(
        httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200)
    )
    waits: list[float] = []
    with make_client("http://erp.test", transport=transport) as client:
        RetryPolicy.for_tests(sleep=waits.append).send(client, "GET", "/x")
    assert waits == [0.0]


def test_retry_after_accepts_an_http_date() -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    # RFC 9110 §10.2.3 example date
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None


def test_credentials_are_redacted_from_headers_and_urls() -> None:
    headers = {"Authorization": "Bearer s3cr3t", "X-Api-Key": "k", "Accept": "json"}
    assert redact_headers(headers) == {"Authorization": "***", "X-Api-Key": "***", "Accept": "json"}
    url = "https://u:p@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc&page=2"
    assert redact_url(url) == "https://***@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***&page=2"


def test_client_logs_never_contain_the_token(caplog: pytest.LogCaptureFixture) -> None:
    transport, _ = _scripted(httpx.Response(200))
    caplog.set_level(logging.DEBUG, logger="perfcore.http")
    headers = {"Authorization": "Bearer s3cr3t"}
    with make_client("http://erp.test", headers=headers, transport=transport) as client:
        client.get("/orders", params={"access_token": "s3cr3t"})
    assert "erp.test/orders" in caplog.text
    assert "s3cr3t" not in caplog.text


def test_make_client_sets_explicit_timeouts_limits_and_user_agent() -> None:
    with make_client("http://erp.test", plugin="perfcore-mes-acme/1.0") as client:
        assert client.timeout == httpx.Timeout(30.0, connect=5.0)
        assert client.headers["User-Agent"].startswith("perfcore/")
        assert client.headers["User-Agent"].endswith(" perfcore-mes-acme/1.0")
