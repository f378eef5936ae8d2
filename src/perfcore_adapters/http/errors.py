"""Typed HTTP errors raised by perfcore's connectors.

Hierarchy::

    HttpError
      TransportFailure      connect/read/write timeouts, resets (no response)
      HttpStatusError       a response with an error status
        RetryableStatus     408, 409, 429, 5xx
          RateLimited       429 (or 503 with Retry-After) — carries retry_after
        QuotaExhausted      the quota for this run is spent (403 REQUEST_LIMIT_EXCEEDED, ...)
        AuthFailed          401 / 403
        ClientError         any other 4xx (never retried)

URLs in messages are redacted (query-string secrets removed).
"""

from __future__ import annotations

from perfcore.domain.errors import PerfcoreError

__all__ = [
    "AuthFailed",
    "ClientError",
    "HttpError",
    "HttpStatusError",
    "QuotaExhausted",
    "RateLimited",
    "RetryableStatus",
    "TransportFailure",
]


class HttpError(PerfcoreError):
    """Base of connector HTTP failures.

    Attributes:
        url: redacted request URL.
        method: request method.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: {message}".strip(": ") if url else message)


class TransportFailure(HttpError):
    """The request got no response (DNS, connect, timeout, reset)."""


class HttpStatusError(HttpError):
    """The server answered an error status.

    Attributes:
        status: the HTTP status code.
        retry_after: seconds the server asked to wait (``Retry-After``), if given.
        body: the first 500 characters of the response body.
    """

    def __init__(
        self,
        status: int,
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
        body: str = "",
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body[:500]
        wait = f", retry after {retry_after:g}s" if retry_after is not None else ""
        super().__init__(f"HTTP {status}{wait}", method=method, url=url)


class RetryableStatus(HttpStatusError):
    """408, 409, 429 or 5xx: worth another attempt."""


class RateLimited(RetryableStatus):
    """429 Too Many Requests (or 503 with ``Retry-After``)."""


class QuotaExhausted(HttpStatusError):
    """The quota is spent for longer than we are willing to wait; never retried."""


class AuthFailed(HttpStatusError):
    """401/403: credentials are missing, wrong or lack permission; never retried."""


class ClientError(HttpStatusError):
    """Another 4xx: the request itself is wrong; never retried."""
