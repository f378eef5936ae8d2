"""WeCom (企业微信) group robot channel (https://developer.work.weixin.qq.com/document/path/91770).

``POST {base_url}/cgi-bin/webhook/send?key=<key>`` with a JSON ``text`` or ``markdown`` message.
The key is the credential (no signing). WeCom always answers HTTP 200; the outcome is the
``errcode`` in the body: ``0`` delivered, ``45009`` (api freq out of limit) retryable after a
minute, ``93000`` (invalid webhook url — usually a whole URL pasted where the key belongs) and
every other code permanent. A robot takes 20 messages per minute; the client-side limiter keeps
to that.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.notifiers._base import (
    HttpNotifier,
    Outgoing,
    compose_markdown,
    compose_text,
    truncate_utf8,
)
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig

__all__ = ["WECOM_ERRORS", "WeComConfig", "WeComNotifier"]

TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
WECOM_ERRORS: dict[int, tuple[str, str]] = {
    45009: ("retryable", "api freq out of limit (20 messages/minute per robot)"),
    93000: ("permanent", "invalid webhook key (give only the key, not the whole URL)"),
}
"""Known ``errcode`` values: (status, meaning). Unknown non-zero codes are permanent."""


def _key(value: str) -> str:
    """Accept the bare key or a pasted webhook URL (its ``key`` query parameter)."""
    text = str(value).strip()
    if "key=" in text:
        found = parse_qs(urlsplit(text).query).get("key")
        if found:
            return found[0]
    return text


def _non_empty(_inst: object, attribute: Any, value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@frozen
class WeComConfig:
    """Plan configuration of a ``wecom`` channel.

    Attributes:
        key: the robot's webhook key (a pasted ``...send?key=...`` URL is reduced to the key).
        msgtype: ``markdown`` (subject in bold) or ``text``.
        mentions: perfcore recipient id → WeCom user id to @-mention (``"@all"`` allowed).
        mention_mobiles: recipient id → mobile number to @-mention (text messages only).
        base_url: API origin (change only for a proxy or a test server).
        rate_limit: client-side limit (default 20 per minute).
        timeout: seconds per request.
    """

    key: str = field(repr=False, converter=_key, validator=_non_empty)
    msgtype: Literal["text", "markdown"] = "markdown"
    mentions: dict[str, str] = Factory(dict)
    mention_mobiles: dict[str, str] = Factory(dict)
    base_url: str = "https://qyapi.weixin.qq.com"
    rate_limit: RateLimitConfig = Factory(lambda: RateLimitConfig(per_minute=20))
    timeout: float = 10.0


class WeComNotifier(HttpNotifier[WeComConfig]):
    """Sends :class:`Message` s to a WeCom group robot. See the module docstring."""

    kind = "wecom"
    default_pause = 60.0

    @classmethod
    def _secrets_of(cls, config: WeComConfig) -> tuple[str, ...]:
        return (config.key, quote(config.key, safe=""))

    def __repr__(self) -> str:
        return f"WeComNotifier(base_url={self.config.base_url!r}, key=***)"

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body for ``message`` (byte limits applied: text 2048, markdown 4096)."""
        users = [self.config.mentions[r] for r in message.recipients if r in self.config.mentions]
        if self.config.msgtype == "markdown":
            content = compose_markdown(message)
            if users:
                content += "\n" + " ".join(f"<@{u}>" for u in users)
            return {
                "msgtype": "markdown",
                "markdown": {"content": truncate_utf8(content, MARKDOWN_MAX_BYTES)},
            }
        text: dict[str, Any] = {"content": truncate_utf8(compose_text(message), TEXT_MAX_BYTES)}
        mobiles = [
            self.config.mention_mobiles[r]
            for r in message.recipients
            if r in self.config.mention_mobiles
        ]
        if users:
            text["mentioned_list"] = users
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": text}

    def _build(self, message: Message) -> Outgoing:
        url = (
            f"{self.config.base_url.rstrip('/')}/cgi-bin/webhook/send?key={quote(self.config.key)}"
        )
        return Outgoing.json(url, self.payload(message))

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        return self._interpret_code(
            response, code_key="errcode", message_key="errmsg", table=WECOM_ERRORS
        )
