"""Request signing for the chat robots and the generic webhook (vendor docs: docs/notifiers.md).

Three different schemes — easy to mix up, so each has its own function and test vector:

* DingTalk custom robot (加签): timestamp in **milliseconds**; HMAC-SHA256 with the secret as
  key over ``"{timestamp}\\n{secret}"``; base64; then URL-encoded; sent as ``timestamp`` and
  ``sign`` query parameters.
* Feishu/Lark custom bot: timestamp in **seconds**; ``"{timestamp}\\n{secret}"`` is the HMAC
  **key** and the message is **empty**; base64 (no URL encoding); sent in the JSON body.
* perfcore generic webhook: ``v1=`` + hex HMAC-SHA256 with the secret as key over
  ``"{timestamp}." + raw body bytes``; headers ``X-Perfcore-Timestamp`` and
  ``X-Perfcore-Signature``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

__all__ = ["dingtalk_sign", "feishu_sign", "webhook_signature"]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded ``sign`` query value of a DingTalk robot request.

    Args:
        secret: the robot's ``SEC...`` secret.
        timestamp_ms: Unix time in milliseconds (must be within an hour of DingTalk's clock).
    """
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The ``sign`` body field of a Feishu/Lark bot request.

    Args:
        secret: the bot's signing secret.
        timestamp_s: Unix time in seconds (within an hour of Feishu's clock).
    """
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """``X-Perfcore-Signature`` of a generic webhook request: ``"v1=" + hex digest``.

    Args:
        secret: the shared secret.
        timestamp_s: the ``X-Perfcore-Timestamp`` value (Unix seconds).
        body: the exact raw request body bytes.
    """
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()
