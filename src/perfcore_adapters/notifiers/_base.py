"""Shared machinery of the HTTP notifiers: one request per message, classified, never raising.

A channel subclass names the secrets in its configuration (:meth:`HttpNotifier._secrets_of`),
builds the request (:meth:`HttpNotifier._build`) and reads the vendor's answer
(:meth:`HttpNotifier._interpret`, :meth:`HttpNotifier._interpret_error`; JSON answers with an
integer error code can use :meth:`HttpNotifier._interpret_code`). This base class owns the
configuration (its ``rate_limit`` and ``timeout``), the client (``make_client``), the
:class:`~perfcore_adapters.http.RetryPolicy`, the client-side rate limiter and the mapping of
transport/status errors to a :class:`~perfcore.ports.notifications.DeliveryResult`:

* no answer (connect refused, timeout) and 408/409/429/5xx → ``retryable``;
* a rate-limit answer (HTTP 429 or a vendor code) → ``retryable`` with ``retry_after`` and the
  limiter paused for that long;
* other 4xx → ``permanent`` unless the channel knows better.

Secrets (keys, tokens, signing secrets) are scrubbed from every detail text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
from attrs import field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.http import (
    HttpStatusError,
    QuotaExhausted,
    RateLimited,
    RetryableStatus,
    RetryPolicy,
    TransportFailure,
    make_client,
)
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig, SlidingWindowLimiter

__all__ = [
    "ChannelConfig",
    "HttpNotifier",
    "Outgoing",
    "PayloadRefused",
    "compose_markdown",
    "compose_text",
    "json_body",
    "scrub",
    "truncate_utf8",
]

ELLIPSIS = "…"


def truncate_utf8(text: str, max_bytes: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut so that its UTF-8 encoding is at most ``max_bytes`` bytes.

    Cuts on a character boundary and ends with ``ellipsis`` when anything was removed (a CJK
    character is 3 bytes, so a 2048-byte WeCom text holds at most 682 of them).
    """
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    room = max(0, max_bytes - len(ellipsis.encode("utf-8")))
    return raw[:room].decode("utf-8", errors="ignore") + ellipsis


def compose_text(message: Message) -> str:
    """Subject line, blank line, body (just the body when there is no subject)."""
    if not message.subject:
        return message.body
    return f"{message.subject}\n\n{message.body}"


def compose_markdown(message: Message, *, heading: str = "**{}**") -> str:
    """Subject as a bold line (or ``heading``), blank line, body.

    A plain-text body is used as is; markdown channels render line breaks as written.
    """
    if not message.subject:
        return message.body
    return f"{heading.format(message.subject)}\n\n{message.body}"


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class PayloadRefused(Exception):
    """Raised by ``_build`` when a message cannot be sent on this channel at all."""


@frozen
class Outgoing:
    """One HTTP request: URL, raw body bytes and extra headers."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(factory=dict)

    @classmethod
    def json(
        cls, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> Outgoing:
        """A JSON request; UTF-8, non-ASCII kept as is (compact separators)."""
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        merged = {"Content-Type": "application/json; charset=utf-8"}
        merged.update(headers or {})
        return cls(url, raw, merged)


class ChannelConfig(Protocol):
    """What every HTTP channel's plan configuration carries."""

    @property
    def rate_limit(self) -> RateLimitConfig:
        """Client-side rate limit of the destination."""
        ...

    @property
    def timeout(self) -> float:
        """Seconds per request."""
        ...


C = TypeVar("C", bound=ChannelConfig)


class HttpNotifier(Generic[C]):
    """Base of the HTTP channels. Subclasses set ``kind``, name their secrets
    (:meth:`_secrets_of`) and implement ``_build``/``_interpret``.

    Args:
        config: the channel's plan configuration (kept as ``self.config``); its ``rate_limit``
            gives the client-side limits and its ``timeout`` the seconds per request.
        transport: an ``httpx`` transport (tests) instead of the network.
        clock: Unix seconds used for signature timestamps (default :func:`time.time`); when
            given, the default limiter counts time with it too (tests pass a fake clock).
        limiter: a ready limiter; built from ``limits`` otherwise (with ``clock`` when given,
            else :func:`time.monotonic`).
        retry: in-call retries (default: one attempt — the outbox retries later).
    """

    kind: ClassVar[str] = "http"
    default_pause: ClassVar[float] = 60.0
    """Seconds to pause after a vendor rate-limit answer without ``Retry-After``."""

    def __init__(
        self,
        config: C,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        limiter: SlidingWindowLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if limiter is None:
            limiter = SlidingWindowLimiter(
                config.rate_limit.limits(), clock if clock is not None else time.monotonic
            )
        self.config = config
        self.limiter = limiter
        self._transport = transport
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._retry = retry if retry is not None else RetryPolicy.never()
        self._timeout = config.timeout
        self._secrets = tuple(s for s in self._secrets_of(config) if s)
        self._http: httpx.Client | None = None

    # ------------------------------------------------------------------ subclass hooks

    @classmethod
    def _secrets_of(cls, config: C) -> Sequence[str]:
        """The texts in ``config`` to scrub from every detail (keys, tokens, URLs)."""
        return ()

    def _build(self, message: Message) -> Outgoing:
        """The request for ``message`` (sign here: a fresh timestamp per attempt)."""
        raise NotImplementedError

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        """Classify a 1xx-3xx answer (vendors report errors inside HTTP 200 bodies)."""
        raise NotImplementedError

    def _interpret_error(self, error: HttpStatusError) -> DeliveryResult | None:
        """Classify an error status from its body; ``None`` = use the generic rules."""
        return None

    # ------------------------------------------------------------------ plumbing

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = make_client(
                timeout=httpx.Timeout(self._timeout, connect=min(5.0, self._timeout)),
                transport=self._transport,
                plugin=f"notifier-{self.kind}",
            )
        return self._http

    def close(self) -> None:
        """Close the HTTP connection pool (a later ``send`` opens a new one)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> HttpNotifier[C]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rate_limited(self, detail: str, retry_after: float | None) -> DeliveryResult:
        pause = retry_after if retry_after is not None else self.default_pause
        self.limiter.pause(pause)
        return DeliveryResult.retryable(detail, retry_after=pause)

    def _interpret_code(
        self,
        response: httpx.Response,
        *,
        code_key: str,
        message_key: str,
        table: Mapping[int, tuple[str, str]],
    ) -> DeliveryResult:
        """Classify a JSON answer whose integer ``code_key`` is ``0`` on success.

        No JSON object or no integer code → ``retryable`` ("unexpected answer"); ``0`` →
        delivered; a code ``table`` marks ``"retryable"`` → rate-limited (limiter paused for
        ``default_pause``); any other code → ``permanent``. Details read
        ``"<kind>: <code_key> <code> <message>"``.
        """
        body = json_body(response.text)
        if body is None or not isinstance(body.get(code_key), int):
            return DeliveryResult.retryable(
                f"{self.kind}: unexpected answer HTTP {response.status_code}: {response.text[:120]}"
            )
        code: int = body[code_key]
        if code == 0:
            return DeliveryResult.delivered(f"{self.kind}: {code_key} 0")
        detail = f"{self.kind}: {code_key} {code} {body.get(message_key, '')}".rstrip()
        status, _meaning = table.get(code, ("permanent", ""))
        if status == "retryable":
            return self._rate_limited(detail, None)
        return DeliveryResult.permanent(detail)

    def send(self, message: Message) -> DeliveryResult:
        """Deliver ``message``; see the module docstring for how outcomes are classified."""
        wait = self.limiter.acquire()
        if wait > 0.0:
            return DeliveryResult.retryable(
                f"{self.kind}: client-side rate limit, next slot in {wait:.1f}s", retry_after=wait
            )
        try:
            outgoing = self._build(message)
        except (PayloadRefused, ValueError, TypeError) as exc:
            return DeliveryResult.permanent(scrub(f"{self.kind}: {exc}", self._secrets))
        result = self._post(outgoing)
        return DeliveryResult(
            result.status, scrub(result.detail, self._secrets), result.retry_after
        )

    def _post(self, outgoing: Outgoing) -> DeliveryResult:
        headers = dict(outgoing.headers)
        try:
            response = self._retry.send(
                self._client(), "POST", outgoing.url, content=outgoing.body, headers=headers
            )
        except TransportFailure as exc:
            return DeliveryResult.retryable(f"{self.kind}: no answer ({exc})")
        except httpx.InvalidURL as exc:
            return DeliveryResult.permanent(f"{self.kind}: invalid URL ({exc})")
        except HttpStatusError as exc:
            specific = self._interpret_error(exc)
            if specific is not None:
                return specific
            detail = f"{self.kind}: HTTP {exc.status} {exc.body[:200]}".rstrip()
            if isinstance(exc, RateLimited | QuotaExhausted) or exc.status == 429:
                return self._rate_limited(detail, exc.retry_after)
            if isinstance(exc, RetryableStatus):
                return DeliveryResult.retryable(detail, retry_after=exc.retry_after)
            return DeliveryResult.permanent(detail)
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "")
            return DeliveryResult.permanent(
                f"{self.kind}: HTTP {response.status_code} redirect to {where!r}; "
                "configure the final URL"
            )
        return self._interpret(response)


def json_body(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text``, or ``None`` when it is not one."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
