"""``RetryPolicy``: the one module in perfcore that uses tenacity.

Opinions (stamina's, https://github.com/hynek/stamina, plus perfcore's own classification of
vendor answers):

* retry only named conditions — transport errors and 408/409/429/5xx answers;
* every other 4xx (400, 401, 403, 404, 422 ...) is never retried, and neither is an answer saying
  the quota is spent (Salesforce ``403 REQUEST_LIMIT_EXCEEDED``, a daily-limit 429, or a
  ``Retry-After`` longer than we are willing to wait);
* honour ``Retry-After`` (seconds or HTTP-date) up to ``retry_after_cap``; otherwise exponential
  backoff with jitter;
* cap attempts *and* total time; retry non-idempotent requests only with an idempotency key;
* ``RetryPolicy.for_tests()`` gives zero backoff; ``sleep`` is injectable.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import attrs
import httpx
import tenacity
from attrs import frozen
from tenacity.stop import stop_base

from perfcore_adapters.http.client import redact_url
from perfcore_adapters.http.errors import (
    AuthFailed,
    ClientError,
    HttpStatusError,
    QuotaExhausted,
    RateLimited,
    RetryableStatus,
    TransportFailure,
)

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "classify_response", "parse_retry_after"]

_log = logging.getLogger("perfcore.http.retry")
T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({408, 409, 429})
QUOTA_MARKERS = ("REQUEST_LIMIT_EXCEEDED", "quota_exhausted", "QuotaExceeded", '"DAILY"')


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date).

    Returns ``None`` when absent or unparsable; a date in the past gives ``0.0``.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_response(
    response: httpx.Response,
    *,
    retry_after_cap: float = 60.0,
    quota_markers: tuple[str, ...] = QUOTA_MARKERS,
) -> HttpStatusError | None:
    """The typed error an answer stands for, or ``None`` for 1xx-3xx.

    Pure function of the response (gidgethub-style sans-I/O), used by :class:`RetryPolicy`.
    """
    status = response.status_code
    if status < 400:
        return None
    request = response.request
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        body = response.text[:2000]
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        body = ""
    args: dict[str, Any] = {
        "method": request.method,
        "url": redact_url(request.url),
        "retry_after": retry_after,
        "body": body,
    }
    if any(marker in body for marker in quota_markers):
        return QuotaExhausted(status, **args)
    if status == 429 or (status == 503 and retry_after is not None):
        if retry_after is not None and retry_after > retry_after_cap:
            return QuotaExhausted(status, **args)
        return RateLimited(status, **args)
    if status in RETRYABLE_STATUSES or status >= 500:
        return RetryableStatus(status, **args)
    if status in (401, 403):
        return AuthFailed(status, **args)
    return ClientError(status, **args)


class _OverBudget(stop_base):
    """Stop once elapsed time plus time spent waiting reaches the budget."""

    def __init__(self, budget: float) -> None:
        self.budget = budget

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        elapsed = retry_state.seconds_since_start or 0.0
        return elapsed + retry_state.idle_for >= self.budget


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        from perfcore.domain.errors import InvalidValue

        raise InvalidValue(f"{attribute.name} must be >= 0", field=attribute.name, valid=">= 0")


@frozen
class RetryPolicy:
    """How a connector retries one request.

    Attributes:
        attempts: maximum attempts including the first (>= 1).
        initial_delay: first backoff in seconds (doubles each attempt).
        max_delay: cap of one backoff in seconds.
        jitter: up to this many random seconds added to each backoff.
        retry_after_cap: longest ``Retry-After`` honoured; longer means quota exhausted.
        total_budget: stop retrying once this many seconds passed (waits included).
        backoff: ``False`` waits zero seconds between attempts (tests).
        sleep: the sleep function (injectable).
    """

    attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    initial_delay: float = attrs.field(default=0.5, validator=_positive)
    max_delay: float = attrs.field(default=30.0, validator=_positive)
    jitter: float = attrs.field(default=1.0, validator=_positive)
    retry_after_cap: float = attrs.field(default=60.0, validator=_positive)
    total_budget: float = attrs.field(default=300.0, validator=_positive)
    backoff: bool = True
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False)

    @classmethod
    def for_tests(
        cls, attempts: int = 5, *, sleep: Callable[[float], None] | None = None
    ) -> RetryPolicy:
        """Zero backoff, ``attempts`` attempts; ``sleep`` records waits if you pass one."""
        return cls(attempts=attempts, backoff=False, sleep=sleep or (lambda _s: None))

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt only."""
        return cls(attempts=1)

    def delay_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if not self.backoff:
            return 0.0
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float):
            return min(float(retry_after), self.retry_after_cap)
        exponential = self.initial_delay * 2.0 ** max(0, attempt - 1)
        return min(self.max_delay, exponential) + random.uniform(0.0, self.jitter)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return self.delay_for(error, state.attempt_number)

    def _retrying(self, attempts: int) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts) | _OverBudget(self.total_budget),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type((TransportFailure, RetryableStatus)),
            sleep=self.sleep,
            reraise=True,
            before_sleep=tenacity.before_sleep_log(_log, logging.INFO),
        )

    def call(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` until it returns, or raises a non-retryable error, or the caps hit.

        ``fn`` signals retryable failures by raising :class:`TransportFailure` or
        :class:`RetryableStatus`; the last error is re-raised when retries run out.
        """
        return self._retrying(self.attempts)(fn)

    def send(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request with retries; return the successful response.

        Non-idempotent methods (POST, PATCH) are tried once unless ``idempotency_key`` is
        given (sent as ``Idempotency-Key``).

        Raises:
            TransportFailure, RetryableStatus, RateLimited: retries ran out.
            QuotaExhausted, AuthFailed, ClientError: not retried.
        """
        method = method.upper()
        merged = dict(headers or {})
        if idempotency_key:
            merged["Idempotency-Key"] = idempotency_key
        may_retry = method in IDEMPOTENT_METHODS or bool(idempotency_key)

        def attempt() -> httpx.Response:
            try:
                response = client.request(method, url, headers=merged, **kwargs)
            except httpx.TransportError as exc:
                full = client.base_url.join(url) if client.base_url else url
                raise TransportFailure(
                    f"{type(exc).__name__}: {exc}", method=method, url=redact_url(full)
                ) from exc
            error = classify_response(response, retry_after_cap=self.retry_after_cap)
            if error is not None:
                raise error
            return response

        return self._retrying(self.attempts if may_retry else 1)(attempt)
