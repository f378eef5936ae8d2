"""Slack incoming-webhook channel (https://docs.slack.dev/tools/python-slack-sdk/webhook).

``POST <webhook url>`` with ``{"text": <fallback>, "blocks": [<mrkdwn section>]}``. Success is
HTTP 200 with the plain-text body ``ok``. Failures are plain-text codes with a 4xx status
(``invalid_payload``, ``no_text``, ``channel_not_found``, ``channel_is_archived``,
``action_prohibited``, ``no_service`` ...) — all permanent — except ``429`` (+ ``Retry-After``),
which is retryable after the given seconds; 5xx are retryable. Slack allows about one message per
second per webhook.
"""

from __future__ import annotations

from typing import Any

import httpx
from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.http import HttpStatusError
from perfcore_adapters.notifiers._base import HttpNotifier, Outgoing
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig

__all__ = ["SLACK_ERRORS", "SlackConfig", "SlackNotifier"]

SECTION_MAX_CHARS = 3000
TEXT_MAX_CHARS = 4000
SLACK_ERRORS: dict[str, str] = {
    "invalid_payload": "the JSON body is malformed or misses required fields",
    "no_text": "no text was given",
    "channel_not_found": "the webhook's channel no longer exists",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "a workspace admin restricted posting",
    "no_service": "the webhook URL is revoked or wrong",
    "rate_limited": "too many messages; wait for Retry-After",
}
"""Known plain-text error codes and what they mean."""


def _webhook_url(_inst: object, attribute: Any, value: str) -> None:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{attribute.name} must be the full https:// webhook URL")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@frozen
class SlackConfig:
    """Plan configuration of a ``slack`` channel.

    Attributes:
        url: the incoming-webhook URL (``https://hooks.slack.com/services/T…/B…/…``); secret.
        blocks: send a mrkdwn section block (``False``: plain ``text`` only).
        rate_limit: client-side limit (default 1 per second).
        timeout: seconds per request.
    """

    url: str = field(repr=False, validator=_webhook_url)
    blocks: bool = True
    rate_limit: RateLimitConfig = Factory(lambda: RateLimitConfig(per_second=1))
    timeout: float = 10.0


class SlackNotifier(HttpNotifier[SlackConfig]):
    """Sends :class:`Message` s to a Slack incoming webhook. See the module docstring."""

    kind = "slack"
    default_pause = 1.0

    @classmethod
    def _secrets_of(cls, config: SlackConfig) -> tuple[str, ...]:
        path = config.url.split("://", 1)[-1].split("/", 1)[-1]
        return (config.url, path)

    def __repr__(self) -> str:
        return "SlackNotifier(url=***)"

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body: a plain fallback ``text`` and, with ``blocks``, one mrkdwn section."""
        plain = f"{message.subject}\n{message.body}" if message.subject else message.body
        payload: dict[str, Any] = {"text": _cut(plain, TEXT_MAX_CHARS)}
        if self.config.blocks:
            rich = f"*{message.subject}*\n{message.body}" if message.subject else message.body
            section = {"type": "mrkdwn", "text": _cut(rich, SECTION_MAX_CHARS)}
            payload["blocks"] = [{"type": "section", "text": section}]
        return payload

    def _build(self, message: Message) -> Outgoing:
        return Outgoing.json(self.config.url, self.payload(message))

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        text = response.text.strip()
        return DeliveryResult.delivered(f"slack: {text[:40] or response.status_code}")

    def _interpret_error(self, error: HttpStatusError) -> DeliveryResult | None:
        if error.status == 429 or error.status >= 500 or error.status in (408, 409):
            return None
        code = error.body.strip()[:80]
        meaning = SLACK_ERRORS.get(code, "")
        detail = f"slack: HTTP {error.status} {code}" + (f" ({meaning})" if meaning else "")
        return DeliveryResult.permanent(detail)
