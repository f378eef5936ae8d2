"""DingTalk (钉钉) custom robot channel (open.dingtalk.com custom-robot docs).

``POST {base_url}/robot/send?access_token=<token>[&timestamp=<ms>&sign=<sig>]`` with a JSON
``text`` or ``markdown`` message and an ``at`` block. With a signing secret (加签) every attempt is
signed afresh (:func:`~perfcore_adapters.notifiers.signing.dingtalk_sign`; the timestamp expires
after an hour, so a signed URL is never queued). With a keyword guard the keyword is added to the
content when missing.

DingTalk answers HTTP 200 with ``errcode``: ``0`` delivered; ``310000`` (sign mismatch, keyword
missing, timestamp skew, IP not allowed) and ``460101`` (message too large) permanent; ``130101``
(sending too fast — the robot is throttled for about 10 minutes) retryable after 600 s. Limit:
20 messages per minute per robot.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import httpx
from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.notifiers._base import HttpNotifier, Outgoing, truncate_utf8
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig
from perfcore_adapters.notifiers.signing import dingtalk_sign
from perfcore_adapters.notifiers.wecom import _non_empty

__all__ = ["DINGTALK_ERRORS", "DingTalkConfig", "DingTalkNotifier"]

CONTENT_MAX_BYTES = 18_000
"""Text kept per message; DingTalk refuses bodies over about 20,000 bytes (460101)."""
THROTTLE_SECONDS = 600.0
DINGTALK_ERRORS: dict[int, tuple[str, str]] = {
    310000: ("permanent", "security check failed: sign, keyword, timestamp or IP"),
    460101: ("permanent", "message too large (about 20,000 bytes)"),
    130101: ("retryable", "sending too fast; robot throttled for about 10 minutes"),
}
"""Known ``errcode`` values: (status, meaning). Unknown non-zero codes are permanent."""


@frozen
class DingTalkConfig:
    """Plan configuration of a ``dingtalk`` channel.

    Attributes:
        access_token: the robot's ``access_token``.
        secret: the ``SEC...`` signing secret (empty: the robot does not use 加签).
        keyword: the robot's custom keyword guard, if any (added when missing:
            before a text message, after a markdown one).
        msgtype: ``markdown`` (title = subject) or ``text``.
        at_mobiles: perfcore recipient id → mobile number to @-mention.
        at_user_ids: perfcore recipient id → DingTalk user id to @-mention.
        at_all: @-mention everybody.
        base_url: API origin (change only for a proxy or a test server).
        rate_limit: client-side limit (default 20 per minute).
        timeout: seconds per request.
    """

    access_token: str = field(repr=False, validator=_non_empty)
    secret: str = field(default="", repr=False)
    keyword: str = ""
    msgtype: Literal["text", "markdown"] = "markdown"
    at_mobiles: dict[str, str] = Factory(dict)
    at_user_ids: dict[str, str] = Factory(dict)
    at_all: bool = False
    base_url: str = "https://oapi.dingtalk.com"
    rate_limit: RateLimitConfig = Factory(lambda: RateLimitConfig(per_minute=20))
    timeout: float = 10.0


class DingTalkNotifier(HttpNotifier[DingTalkConfig]):
    """Sends :class:`Message` s to a DingTalk custom robot. See the module docstring."""

    kind = "dingtalk"
    default_pause = THROTTLE_SECONDS

    @classmethod
    def _secrets_of(cls, config: DingTalkConfig) -> tuple[str, ...]:
        return (config.access_token, config.secret)

    def __repr__(self) -> str:
        return f"DingTalkNotifier(base_url={self.config.base_url!r}, access_token=***)"

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body for ``message`` (content cut at 18,000 UTF-8 bytes)."""
        cfg = self.config
        mobiles = [cfg.at_mobiles[r] for r in message.recipients if r in cfg.at_mobiles]
        users = [cfg.at_user_ids[r] for r in message.recipients if r in cfg.at_user_ids]
        at = {"atMobiles": mobiles, "atUserIds": users, "isAtAll": cfg.at_all}
        if cfg.msgtype == "markdown":
            text = f"#### {message.subject}\n\n{message.body}" if message.subject else message.body
            # a mention renders only when "@mobile"/"@userId" also appears in the text
            tags = " ".join(f"@{m}" for m in mobiles + users)
            text = self._guard(truncate_utf8(text, CONTENT_MAX_BYTES), at_end=True)
            if tags:
                text = f"{text}\n\n{tags}"
            title = message.subject or (message.body.splitlines() or ["perfcore"])[0]
            return {"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at}
        content = f"{message.subject}\n\n{message.body}" if message.subject else message.body
        content = self._guard(truncate_utf8(content, CONTENT_MAX_BYTES))
        return {"msgtype": "text", "text": {"content": content}, "at": at}

    def _guard(self, text: str, *, at_end: bool = False) -> str:
        keyword = self.config.keyword
        if not keyword or keyword in text:
            return text
        return f"{text}\n\n{keyword}" if at_end else f"{keyword} {text}"

    def _build(self, message: Message) -> Outgoing:
        url = (
            f"{self.config.base_url.rstrip('/')}/robot/send"
            f"?access_token={quote(self.config.access_token, safe='')}"
        )
        if self.config.secret:
            timestamp_ms = int(self._clock() * 1000)
            url += (
                f"&timestamp={timestamp_ms}&sign={dingtalk_sign(self.config.secret, timestamp_ms)}"
            )
        return Outgoing.json(url, self.payload(message))

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        return self._interpret_code(
            response, code_key="errcode", message_key="errmsg", table=DINGTALK_ERRORS
        )
