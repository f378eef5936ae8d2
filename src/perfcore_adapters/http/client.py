"""``make_client()``: the one way perfcore connectors build an ``httpx.Client``.

Explicit timeouts and connection limits, a ``User-Agent`` naming perfcore (and the plugin),
request/response logging at DEBUG with credentials redacted, and an injectable transport so tests
use ``httpx.MockTransport`` or a loopback server instead of patching.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "REDACTED",
    "make_client",
    "redact_headers",
    "redact_url",
]

_log = logging.getLogger("perfcore.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s per read/write/pool wait, 5 s to connect."""
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)
REDACTED = "***"

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
_SECRET_WORDS = re.compile(r"token|secret|key|sign|password|auth|session", re.IGNORECASE)


def redact_headers(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    """Copy of ``headers`` with credential-bearing values replaced by ``***``.

    Authorization, cookies, API-key headers and any header whose name mentions a token,
    secret, key, signature, password, auth or session are redacted.
    """
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        secret = lower in _SECRET_HEADERS or bool(_SECRET_WORDS.search(lower))
        out[name] = REDACTED if secret else value
    return out


def redact_url(url: str | httpx.URL) -> str:
    """``url`` with userinfo and secret-looking query values (``key=``, ``access_token=``,
    ``sign=`` ...) replaced by ``***``."""
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [
            (k, REDACTED if _SECRET_WORDS.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _user_agent(plugin: str | None) -> str:
    try:
        ours = version("perfcore")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        ours = "0"
    return f"perfcore/{ours}" + (f" {plugin}" if plugin else "")


def _log_request(request: httpx.Request) -> None:
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "-> %s %s headers=%s",
            request.method,
            redact_url(request.url),
            redact_headers(request.headers),
        )


def _log_response(response: httpx.Response) -> None:
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "<- %s %s %s", response.status_code, response.request.method, redact_url(response.url)
        )


def make_client(
    base_url: str = "",
    *,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits = DEFAULT_LIMITS,
    transport: httpx.BaseTransport | None = None,
    plugin: str | None = None,
    follow_redirects: bool = False,
) -> httpx.Client:
    """A configured ``httpx.Client``; the caller owns it and must ``close()`` it.

    Args:
        base_url: prefix for relative request URLs.
        headers: default headers (credentials are fine here; logs redact them).
        timeout: explicit timeouts (default 30 s, connect 5 s).
        limits: connection-pool limits (default 10 connections, 5 keep-alive).
        transport: an ``httpx`` transport to use instead of the network (tests:
            ``httpx.MockTransport(handler)``).
        plugin: ``name/version`` appended to the ``User-Agent``.
        follow_redirects: follow 3xx automatically (off: a redirect is a configuration smell).
    """
    merged = {"User-Agent": _user_agent(plugin), "Accept": "application/json"}
    merged.update(headers or {})
    return httpx.Client(
        base_url=base_url,
        headers=merged,
        timeout=timeout,
        limits=limits,
        transport=transport,
        follow_redirects=follow_redirects,
        event_hooks={"request": [_log_request], "response": [_log_response]},
    )
