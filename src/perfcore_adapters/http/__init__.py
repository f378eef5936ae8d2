"""HTTP plumbing for connectors: ``make_client()``, ``RetryPolicy``, typed errors."""

from perfcore_adapters.http.client import make_client, redact_headers, redact_url
from perfcore_adapters.http.errors import (
    AuthFailed,
    ClientError,
    HttpError,
    HttpStatusError,
    QuotaExhausted,
    RateLimited,
    RetryableStatus,
    TransportFailure,
)
from perfcore_adapters.http.retry import RetryPolicy, classify_response, parse_retry_after

__all__ = [
    "AuthFailed",
    "ClientError",
    "HttpError",
    "HttpStatusError",
    "QuotaExhausted",
    "RateLimited",
    "RetryPolicy",
    "RetryableStatus",
    "TransportFailure",
    "classify_response",
    "make_client",
    "parse_retry_after",
    "redact_headers",
    "redact_url",
]
