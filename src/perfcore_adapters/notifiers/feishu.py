"""Feishu / Lark custom bot channel (Feishu Open Platform guide; URL in docs/notifiers.md).

``POST {base_url}/open-apis/bot/v2/hook/<hook>`` with ``msg_type`` ``text`` or ``post`` (rich
text with a title). With a signing secret the body also carries ``timestamp`` (seconds) and
``sign`` (:func:`~perfcore_adapters.notifiers.signing.feishu_sign` — HMAC-SHA256 keyed with
``"timestamp\\nsecret"`` over an empty message; not the DingTalk scheme), computed per attempt.

Feishu answers with ``code`` in the body (``StatusCode`` on old deployments), usually with HTTP
200: ``0`` delivered; ``11232`` (frequency limited) and ``9499`` when it says "too many
requests" retryable; ``19021`` (sign mismatch or timestamp more than an hour off) and every other
code permanent. Limits: 100 requests per minute and 5 per second per bot, body at most 20 KB.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.http import HttpStatusError
from perfcore_adapters.notifiers._base import (
    HttpNotifier,
    Outgoing,
    PayloadRefused,
    compose_text,
    json_body,
    truncate_utf8,
)
from perfcore_adapters.notifiers.ratelimit import RateLimitConfig
from perfcore_adapters.notifiers.signing import feishu_sign
from perfcore_adapters.notifiers.wecom import _non_empty

__all__ = ["FEISHU_ERRORS", "FeishuConfig", "FeishuNotifier"]

BODY_MAX_BYTES = 20 * 1024
CONTENT_MAX_BYTES = 18_000
FEISHU_ERRORS: dict[int, tuple[str, str]] = {
    11232: ("retryable", "frequency limited (100/min, 5/s per bot)"),
    9499: ("retryable", "too many requests (otherwise: bad request)"),
    19021: ("permanent", "sign mismatch or timestamp more than 1 hour off"),
}
"""Known ``code`` values: (status, meaning). Unknown non-zero codes are permanent."""
_TOO_MANY = ("too many", "frequen", "limit")


def _hook(value: str) -> str:
    """Accept the hook token or the whole hook URL (its last path segment)."""
    text = str(value).strip().rstrip("/")
    return text.rsplit("/", 1)[-1] if "/hook/" in text else text


@frozen
class FeishuConfig:
    """Plan configuration of a ``feishu`` (or Lark) channel.

    Attributes:
        hook: the bot's hook token (a pasted ``.../bot/v2/hook/<token>`` URL is reduced to it).
        secret: signing secret (empty: the bot has no signature check).
        msg_type: ``post`` (rich text, subject as title) or ``text``.
        mentions: perfcore recipient id → Feishu ``open_id``/``user_id`` to @-mention.
        base_url: ``https://open.feishu.cn`` (Feishu) or ``https://open.larksuite.com`` (Lark).
        rate_limit: client-side limit (default 100 per minute and 5 per second).
        timeout: seconds per request.
    """

    hook: str = field(repr=False, converter=_hook, validator=_non_empty)
    secret: str = field(default="", repr=False)
    msg_type: Literal["text", "post"] = "post"
    mentions: dict[str, str] = Factory(dict)
    base_url: str = "https://open.feishu.cn"
    rate_limit: RateLimitConfig = Factory(lambda: RateLimitConfig(per_minute=100, per_second=5))
    timeout: float = 10.0


class FeishuNotifier(HttpNotifier[FeishuConfig]):
    """Sends :class:`Message` s to a Feishu/Lark custom bot. See the module docstring."""

    kind = "feishu"
    default_pause = 60.0

    @classmethod
    def _secrets_of(cls, config: FeishuConfig) -> tuple[str, ...]:
        return (config.hook, config.secret)

    def __repr__(self) -> str:
        return f"FeishuNotifier(base_url={self.config.base_url!r}, hook=***)"

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body for ``message`` without the signature fields."""
        ids = [self.config.mentions[r] for r in message.recipients if r in self.config.mentions]
        if self.config.msg_type == "text":
            text = truncate_utf8(compose_text(message), CONTENT_MAX_BYTES)
            if ids:
                text += "\n" + " ".join(f'<at user_id="{i}"></at>' for i in ids)
            return {"msg_type": "text", "content": {"text": text}}
        body = truncate_utf8(message.body, CONTENT_MAX_BYTES)
        rows: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": line}] for line in body.split("\n")
        ]
        if ids:
            rows.append([{"tag": "at", "user_id": i} for i in ids])
        language = "zh_cn" if message.locale.lower().startswith("zh") else "en_us"
        post = {language: {"title": message.subject, "content": rows}}
        return {"msg_type": "post", "content": {"post": post}}

    def _build(self, message: Message) -> Outgoing:
        payload = self.payload(message)
        if self.config.secret:
            timestamp = int(self._clock())
            signed = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(self.config.secret, timestamp),
            }
            payload = {**signed, **payload}
        url = f"{self.config.base_url.rstrip('/')}/open-apis/bot/v2/hook/{self.config.hook}"
        outgoing = Outgoing.json(url, payload)
        if len(outgoing.body) > BODY_MAX_BYTES:
            raise PayloadRefused(f"body of {len(outgoing.body)} bytes exceeds 20 KB")
        return outgoing

    def _classify(self, body: dict[str, Any]) -> DeliveryResult | None:
        code = body.get("code", body.get("StatusCode"))
        if not isinstance(code, int):
            return None
        if code == 0:
            return DeliveryResult.delivered("feishu: code 0")
        msg = str(body.get("msg", body.get("StatusMessage", "")))
        detail = f"feishu: code {code} {msg}".rstrip()
        kind, _meaning = FEISHU_ERRORS.get(code, ("permanent", ""))
        if code == 9499 and not any(word in msg.lower() for word in _TOO_MANY):
            kind = "permanent"
        if kind == "retryable":
            return self._rate_limited(detail, None)
        return DeliveryResult.permanent(detail)

    def _interpret(self, response: httpx.Response) -> DeliveryResult:
        body = json_body(response.text)
        result = self._classify(body) if body is not None else None
        if result is None:
            return DeliveryResult.retryable(
                f"feishu: unexpected answer HTTP {response.status_code}: {response.text[:120]}"
            )
        return result

    def _interpret_error(self, error: HttpStatusError) -> DeliveryResult | None:
        body = json_body(error.body)
        if body is None or error.status == 429 or error.status >= 500:
            return None
        return self._classify(body)
