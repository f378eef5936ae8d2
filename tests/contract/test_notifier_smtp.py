"""Contract tests: the SMTP e-mail notifier against a real ``aiosmtpd`` server on 127.0.0.1.

The server is ``aiosmtpd.controller.Controller`` with a ``handle_DATA`` that keeps
the envelope. The messages are rendered from the service layer's templates
(``perfcore.services.templates``) in English and Chinese, as the outbox delivery does.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from perfcore.plugins.registry import structure_config
from perfcore.ports.notifications import DeliveryStatus, Message
from perfcore.services.templates import render
from perfcore.testing.notifiers import NotifierChannelContract, contract_message
from perfcore_adapters.notifiers import SmtpConfig, SmtpNotifier

PARAMS = {"subject": "person:E1", "trigger": "FPY below 95%", "due_at": "2025-03-05 08:00"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every envelope; can refuse recipients with a given reply."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse_rcpt: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1) -> EmailMessage:
        raw = self.envelopes[index].content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _notifier(port: int, **cfg: Any) -> SmtpNotifier:
    data = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "perfcore <kpi@plant.example>",
    }
    data.update(cfg)
    return SmtpNotifier(structure_config(data, SmtpConfig))


def _templated(locale: str, key: str = "review:R1") -> Message:
    subject, body = render("review_opened", PARAMS, locale)
    recipients: Any = ("M1",)
    return Message(
        channel="smtp",
        recipients=recipients,
        subject=subject,
        body=body,
        locale=locale,
        dedupe_key=key,
    )


class TestSmtpContract(NotifierChannelContract):
    @pytest.fixture
    def notifier(self, mailbox: tuple[Mailbox, int]) -> SmtpNotifier:
        return _notifier(mailbox[1], to=["ops@plant.example"], password="pw-s3cret")

    @pytest.fixture
    def down_notifier(self) -> SmtpNotifier:
        return _notifier(_free_port(), to=["ops@plant.example"], password="pw-s3cret")

    @pytest.fixture
    def secrets(self) -> list[str]:
        return ["pw-s3cret"]


def test_smtp_english_message_from_the_template_arrives_as_text_and_html(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    notifier = _notifier(port, addresses={"M1": "li.wei@plant.example"})
    assert notifier.send(_templated("en")).ok
    envelope = box.envelopes[0]
    assert envelope.mail_from == "kpi@plant.example"
    assert envelope.rcpt_tos == ["li.wei@plant.example"]
    mail = box.parsed()
    assert mail["Subject"] == "Review needed: person:E1"
    assert mail["To"] == "li.wei@plant.example"
    assert mail["Content-Language"] == "en"
    assert mail["X-Perfcore-Delivery"] == "review:R1"
    assert mail["Message-ID"].endswith("@perfcore>")
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == (
        "A review of person:E1 was opened (FPY below 95%). Please complete it by 2025-03-05 08:00."
    )
    assert "<h2>Review needed: person:E1</h2>" in html.get_content()


def test_smtp_chinese_message_keeps_its_subject_and_body_intact(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    assert _notifier(port, to=["ops@plant.example"]).send(_templated("zh-CN")).ok
    mail = box.parsed()
    assert mail["Subject"] == "待办评审：person:E1"
    assert mail["Content-Language"] == "zh-CN"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == (
        "已为 person:E1 发起评审（FPY below 95%），请在 2025-03-05 08:00 前完成。"
    )
    assert '<html lang="zh-CN">' in html.get_content()
    assert b"=?utf-8?" in box.envelopes[0].content  # RFC 2047 encoded header on the wire


def test_smtp_html_part_escapes_markup(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    message = contract_message("a < b & <script>x</script>", subject="<b>FPY</b>")
    assert _notifier(port, to=["ops@plant.example"]).send(message).ok
    html = box.parsed().get_body(("html",))
    assert html is not None
    assert "<script>" not in html.get_content()
    assert "&lt;script&gt;" in html.get_content()


def test_smtp_same_dedupe_key_gives_the_same_message_id(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    notifier = _notifier(port, to=["ops@plant.example"])
    notifier.send(_templated("en", key="k1"))
    notifier.send(_templated("en", key="k1"))
    notifier.send(_templated("en", key="k2"))
    ids = [box.parsed(i)["Message-ID"] for i in range(3)]
    assert ids[0] == ids[1] != ids[2]


def test_smtp_recipient_without_an_address_is_permanent(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    result = _notifier(port).send(_templated("en"))
    assert result.status is DeliveryStatus.PERMANENT
    assert "M1" in result.detail
    assert box.envelopes == []


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("550 5.1.1 No such user", DeliveryStatus.PERMANENT),
        ("450 4.2.1 Mailbox busy", DeliveryStatus.RETRYABLE),
    ],
)
def test_smtp_refused_recipient_is_classified_by_reply_code(
    mailbox: tuple[Mailbox, int], reply: str, status: DeliveryStatus
) -> None:
    box, port = mailbox
    box.refuse_rcpt = reply
    result = _notifier(port, to=["ops@plant.example"]).send(_templated("en"))
    assert result.status is status
    assert reply[:3] in result.detail


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:  # pragma: no cover - no openssl
        pytest.skip(f"openssl unavailable: {exc}")
    return cert, key


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"kpi",
        b"pw-s3cret",
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def tls_mailbox(tls_files: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int, ssl.SSLContext]]:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    box, port = Mailbox(), _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield box, port, client_ctx
    finally:
        controller.stop()


def test_smtp_starttls_and_login_deliver(tls_mailbox: tuple[Mailbox, int, ssl.SSLContext]) -> None:
    box, port, context = tls_mailbox
    config = SmtpConfig(
        host="127.0.0.1", port=port, sender="kpi@plant.example", security="starttls",
        username="kpi", password="pw-s3cret", to=["ops@plant.example"],
    )  # fmt: skip
    assert SmtpNotifier(config, ssl_context=context).send(_templated("zh")).ok
    assert box.parsed()["Subject"] == "待办评审：person:E1"


def test_smtp_wrong_password_is_permanent_and_not_shown(
    tls_mailbox: tuple[Mailbox, int, ssl.SSLContext],
) -> None:
    box, port, context = tls_mailbox
    config = SmtpConfig(
        host="127.0.0.1", port=port, sender="kpi@plant.example", security="starttls",
        username="kpi", password="wrong-pw", to=["ops@plant.example"],
    )  # fmt: skip
    result = SmtpNotifier(config, ssl_context=context).send(_templated("en"))
    assert result.status is DeliveryStatus.PERMANENT
    assert "authentication" in result.detail
    assert "wrong-pw" not in result.detail
    assert box.envelopes == []


def test_smtp_without_starttls_is_refused_by_a_server_that_requires_it(
    tls_mailbox: tuple[Mailbox, int, ssl.SSLContext],
) -> None:
    _box, port, _context = tls_mailbox
    config = SmtpConfig(host="127.0.0.1", port=port, sender="kpi@plant.example", security="none",
                        to=["ops@plant.example"])  # fmt: skip
    result = SmtpNotifier(config).send(_templated("en"))
    assert result.status is DeliveryStatus.PERMANENT
    assert "530" in result.detail


def test_smtp_header_injection_in_the_subject_is_refused_not_raised(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    message = contract_message(subject="FPY\nBcc: everyone@plant.example")
    result = _notifier(port, to=["ops@plant.example"]).send(message)
    assert result.status is DeliveryStatus.PERMANENT
    assert box.envelopes == []
