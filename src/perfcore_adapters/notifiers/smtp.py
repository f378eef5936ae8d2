"""E-mail channel over SMTP (stdlib ``smtplib``).

One e-mail per message, ``multipart/alternative`` with a plain-text part and an HTML part (the
body escaped, line breaks kept), UTF-8 headers so Chinese subjects survive, and a ``Message-ID``
derived from the dedupe key so mail clients and archives can spot a repeat.

Recipients: every ``Message.recipients`` entry that is an address (contains ``@``) or that
``addresses`` maps to one, plus the fixed ``to`` list. No address at all is a permanent failure.

Outcomes: connection refused/lost, timeouts and 4xx SMTP replies are retryable; authentication
failures, refused recipients/sender and other 5xx replies are permanent.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from attrs import Factory, field, frozen

from perfcore.ports.notifications import DeliveryResult, Message
from perfcore_adapters.notifiers._base import scrub
from perfcore_adapters.notifiers.wecom import _non_empty

__all__ = ["SmtpConfig", "SmtpNotifier", "render_email"]


@frozen
class SmtpConfig:
    """Plan configuration of an ``smtp`` channel.

    Attributes:
        host: SMTP server host name.
        sender: the ``From`` address (``"perfcore <kpi@example.com>"`` works).
        port: 587 (submission with STARTTLS), 465 (``security: ssl``) or 25.
        security: ``starttls`` (upgrade after connecting), ``ssl`` (TLS from the start) or
            ``none`` (loopback/test relays only).
        username: login name (empty: no authentication).
        password: login password.
        to: addresses that receive every message.
        addresses: perfcore recipient id → e-mail address.
        timeout: seconds per SMTP command.
    """

    host: str = field(validator=_non_empty)
    sender: str = field(validator=_non_empty)
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    to: list[str] = Factory(list)
    addresses: dict[str, str] = Factory(dict)
    timeout: float = 10.0


def _html(message: Message) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in message.body.split("\n\n")
    )
    lang = "zh-CN" if message.locale.lower().startswith("zh") else html.escape(message.locale)
    title = html.escape(message.subject)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h2>{title}</h2>{paragraphs}</body></html>"
    )


def render_email(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    """The MIME e-mail for ``message``: text part then HTML part, UTF-8, ``Content-Language``,
    ``Message-ID`` ``<sha256(dedupe_key)[:32]@perfcore>`` when the message has a dedupe key."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email["Date"] = formatdate(localtime=False)
    if message.dedupe_key:
        digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]
        email["Message-ID"] = f"<{digest}@perfcore>"
        email["X-Perfcore-Delivery"] = message.dedupe_key
    email.set_content(message.body, subtype="plain", charset="utf-8")
    email.add_alternative(_html(message), subtype="html", charset="utf-8")
    email["Content-Language"] = message.locale  # after set_content, which drops Content-*
    return email


class SmtpNotifier:
    """Sends :class:`Message` s as e-mail. See the module docstring.

    A connection is opened per message (notification volumes are small, and a stale pooled
    connection would turn into a spurious failure).
    """

    kind = "smtp"

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl = ssl_context

    def __repr__(self) -> str:
        return f"SmtpNotifier(host={self.config.host!r}, port={self.config.port})"

    def recipients(self, message: Message) -> list[str]:
        """The envelope recipients for ``message`` (fixed ``to`` first, no duplicates)."""
        out: list[str] = list(self.config.to)
        for recipient in message.recipients:
            address = recipient if "@" in recipient else self.config.addresses.get(recipient)
            if address and address not in out:
                out.append(address)
        return out

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            context = self._ssl or ssl.create_default_context()
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.security == "starttls":
            client.starttls(context=self._ssl or ssl.create_default_context())
        return client

    def send(self, message: Message) -> DeliveryResult:
        """Deliver ``message`` by e-mail; classify failures instead of raising."""
        rcpts = self.recipients(message)
        if not rcpts:
            wanted = ", ".join(message.recipients) or "none"
            return DeliveryResult.permanent(
                f"smtp: no e-mail address for recipients ({wanted}); set 'to' or 'addresses'"
            )
        try:
            email = render_email(message, self.config.sender, rcpts)
        except (ValueError, TypeError) as exc:  # e.g. a line break in a header value
            return self._fail(False, f"cannot build the e-mail: {exc}")
        try:
            client = self._connect()
            try:
                if self.config.username:
                    client.login(self.config.username, self.config.password)
                refused = client.send_message(email, to_addrs=rcpts)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPAuthenticationError as exc:
            return self._fail(False, f"authentication failed ({exc.smtp_code})")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _msg in exc.recipients.values()})
            temporary = all(400 <= c < 500 for c in codes)
            return self._fail(temporary, f"all recipients refused {codes}")
        except smtplib.SMTPSenderRefused as exc:
            return self._fail(400 <= exc.smtp_code < 500, f"sender refused ({exc.smtp_code})")
        except smtplib.SMTPResponseException as exc:
            return self._fail(400 <= exc.smtp_code < 500, f"server answered {exc.smtp_code}")
        except (smtplib.SMTPException, OSError) as exc:
            return self._fail(True, f"no answer ({type(exc).__name__}: {exc})")
        if refused:
            return DeliveryResult.delivered(f"smtp: delivered; refused {sorted(refused)}")
        return DeliveryResult.delivered(f"smtp: accepted for {len(rcpts)} recipient(s)")

    def _fail(self, retryable: bool, detail: str) -> DeliveryResult:
        text = scrub(f"smtp: {detail}", (self.config.password,))
        return DeliveryResult.retryable(text) if retryable else DeliveryResult.permanent(text)
