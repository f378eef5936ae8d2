"""Generic signed webhook channel: perfcore's own documented format for any HTTP receiver.

Request: ``POST <url>`` with a JSON body::

    {"id": "<dedupe key>", "channel": "...", "recipients": ["M1"], "subject": "...",
     "body": "...", "format": "text", "locale": "zh-CN", "sent_at": "2025-03-03T08:00:00+00:00"}

and the headers

* ``X-Perfcore-Timestamp``: Unix seconds at signing;
* ``X-Perfcore-Signature``: ``v1=`` + hex HMAC-SHA256 (key = the shared secret) over
  ``"<timestamp>." + <raw body bytes>`` (see
  :func:`~perfcore_adapters.notifiers.signing.webhook_signature`);
* ``X-Perfcore-Delivery`` and ``Idempotency-Key``: the message's dedupe key (the same message is
  re-sent with the same key after a failure; receivers drop repeats).

A receiver verifies the signature over the raw bytes before parsing, refuses timestamps older
than 5 minutes, and answers 2xx (also for a repeat). 408/409/429/5xx and no answer are
retryable (``Retry-After`` honoured); any other status is permanent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.notifiers._base import HttpNotifier, Outgoing
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig
from perfcore_adapters.notifiers.signing import webhook_signature
from perfcore_adapters.notifiers.slack import _webhook_url
from perfcore_adapters.notifiers.wecom import _non_empty

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookConfig",
    "WebhookNotifier",
]

TIMESTAMP_HEADER = "X-Perfcore-Timestamp"
SIGNATURE_HEADER = "X-Perfcore-Signature"
DELIVERY_HEADER = "X-Perfcore-Delivery"


@frozen
class WebhookConfig:
    """Plan configuration of a ``webhook`` channel.

    Attributes:
        url: the receiver's URL.
        secret: the shared signing secret.
        headers: extra request headers (e.g. an ``Authorization``); treated as secrets.
        rate_limit: client-side limit (default none).
        timeout: seconds per request.
    """

    url: str = field(validator=_webhook_url)
    secret: str = field(repr=False, validator=_non_empty)
    headers: dict[str, str] = field(factory=dict, repr=False)
    rate_limit: RateLimitConfig = Factory(RateLimitConfig)
    timeout: float = 10.0


class WebhookNotifier(HttpNotifier[WebhookConfig]):
    """POSTs signed JSON to any HTTP receiver. See the module docstring for the format."""

    kind = "webhook"
    default_pause = 60.0

    @classmethod
    def _secrets_of(cls, config: WebhookConfig) -> tuple[str, ...]:
        return (config.secret, *config.headers.values())

    def __repr__(self) -> str:
        return f"WebhookNotifier(url={self.config.url!r}, secret=***)"

    def payload(self, message: Message, sent_at: dt.datetime) -> dict[str, Any]:
        """The JSON body for ``message``."""
        return {
            "id": message.dedupe_key,
            "channel": message.channel,
            "recipients": list(message.recipients),
            "subject": message.subject,
            "body": message.body,
            "format": str(message.body_format),
            "locale": message.locale,
            "sent_at": sent_at.isoformat(),
        }

    def _build(self, message: Message) -> Outgoing:
        now = self._clock()
        timestamp = int(now)
        sent_at = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        draft = Outgoing.json(self.config.url, self.payload(message, sent_at))
        headers = dict(draft.headers)
        headers.update(self.config.headers)
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = webhook_signature(self.config.secret, timestamp, draft.body)
        if message.dedupe_key:
            headers[DELIVERY_HEADER] = message.dedupe_key
            headers["Idempotency-Key"] = message.dedupe_key
        return Outgoing(draft.url, draft.body, headers)

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        return DeliveryResult.delivered(f"webhook: HTTP {response.status_code}")
