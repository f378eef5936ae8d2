"""Contract suite and loopback helpers for :class:`~perfcore.ports.notifications.Notifier` channels.

A notification channel (built in or from a plugin) subclasses :class:`NotifierChannelContract`
in a test module and provides three fixtures::

    from perfcore.testing.notifiers import NotifierChannelContract, closed_port_url

    class TestAcmeChat(NotifierChannelContract):
        @pytest.fixture
        def notifier(self, acme_server):          # a peer that accepts messages
            return AcmeNotifier(AcmeConfig(url=acme_server.url, token="T0K3N"))

        @pytest.fixture
        def down_notifier(self):                  # the same channel, peer not answering
            return AcmeNotifier(AcmeConfig(url=closed_port_url(), token="T0K3N"))

        @pytest.fixture
        def secrets(self):                        # must never show in results or repr()
            return ["T0K3N"]

Disable client-side rate limits in these fixtures (the suite sends a few messages in a row).
``down_notifier`` may return ``None`` for channels without a peer (console).

The inherited tests pin the port's promises: a text, a Chinese and a markdown message are
delivered; a very long message is delivered (cut) or refused *permanently*, never raised; an
unreachable peer gives ``retryable`` (so the outbox keeps the message), never an exception; no
result detail nor ``repr`` shows a secret; a message may be sent again with the same dedupe key
(the outbox, not the channel, guarantees once).

:class:`LoopbackHTTPServer` is a threaded HTTP server on 127.0.0.1 that records each request and
answers from a function — enough to reproduce a vendor's documented success, error and
rate-limit answers in a contract test.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from attrs import field, frozen

from perfcore.ports.notifications import (
    BodyFormat,
    DeliveryResult,
    DeliveryStatus,
    Message,
    Notifier,
)

__all__ = [
    "Answer",
    "LoopbackHTTPServer",
    "ManualClock",
    "NotifierChannelContract",
    "ReceivedRequest",
    "closed_port_url",
    "contract_message",
    "free_port",
]


@frozen
class ReceivedRequest:
    """One request the loopback server received.

    Attributes:
        method: ``POST``, ``GET`` ...
        path: the URL path.
        query: query parameters as received (values *not* URL-decoded twice: ``raw_query``
            keeps the exact text).
        raw_query: the query string exactly as sent.
        headers: header name (lower case) → value.
        body: the raw body bytes.
    """

    method: str
    path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))


Answer = tuple[int, Mapping[str, str], "bytes | str | Mapping[str, Any]"]
"""``(status, headers, body)``; a mapping body is sent as JSON, ``str`` as UTF-8 text."""


class LoopbackHTTPServer:
    """A threaded HTTP/1.1 server on ``127.0.0.1`` at a free port.

    ``respond(request) -> (status, headers, body)`` decides every answer (swap it at any time by
    assigning ``server.respond``). ``requests`` lists what was received, in order. Use as a
    context manager; ``url`` is ``http://127.0.0.1:<port>``. ``port=0`` picks a free port; give
    a port (e.g. from :func:`free_port`) to bring a "down" peer up later at the same address.
    """

    def __init__(self, respond: Callable[[ReceivedRequest], Answer], *, port: int = 0) -> None:
        self.respond = respond
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = ReceivedRequest(
                    method=self.command,
                    path=parts.path,
                    raw_query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                )
                with outer._lock:
                    outer.requests.append(request)
                status, headers, answer = outer.respond(request)
                if isinstance(answer, Mapping):
                    payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                    kind = "application/json; charset=utf-8"
                elif isinstance(answer, str):
                    payload, kind = answer.encode("utf-8"), "text/plain; charset=utf-8"
                else:
                    payload, kind = answer, "application/octet-stream"
                self.send_response(status)
                sent = {k.lower() for k in headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                if "content-type" not in sent:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                self._handle()

            def do_GET(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LoopbackHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class ManualClock:
    """Seconds that move only when told: pass as a notifier's ``clock`` or a limiter's clock.

    ``clock()`` → current value; ``clock.advance(60)``.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move forward ``seconds``; returns the new value."""
        self.now += seconds
        return self.now


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


def contract_message(
    body: str = "FPY 92.5% on line L1 (target 95%).",
    *,
    subject: str = "Alert: FPY for L1",
    locale: str = "en",
    body_format: BodyFormat = BodyFormat.TEXT,
    key: str = "contract-1",
) -> Message:
    """A message as the outbox delivery builds it (one recipient ``M1``)."""
    recipients: Any = ("M1",)
    return Message(
        channel="contract",
        recipients=recipients,
        subject=subject,
        body=body,
        body_format=body_format,
        locale=locale,
        dedupe_key=key,
    )


def _no_secret(result: DeliveryResult, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in result.detail, f"a secret leaked into the detail: {result.detail!r}"


class NotifierChannelContract:
    """The promises every notification channel keeps (fixtures: see the module docstring)."""

    def test_contract_text_message_is_delivered(
        self, notifier: Notifier, secrets: list[str]
    ) -> None:
        result = notifier.send(contract_message())
        assert result.status is DeliveryStatus.OK, result.detail
        _no_secret(result, secrets)

    def test_contract_chinese_message_is_delivered(self, notifier: Notifier) -> None:
        message = contract_message(
            "一次合格率 92.5%（目标 95%），请在 3 月 5 日前完成评审。",
            subject="预警：L1 的一次合格率",
            locale="zh-CN",
            key="contract-zh",
        )
        result = notifier.send(message)
        assert result.status is DeliveryStatus.OK, result.detail

    def test_contract_markdown_message_is_delivered(self, notifier: Notifier) -> None:
        message = contract_message(
            "**FPY** 92.5%\n\n- line L1\n- shift B", body_format=BodyFormat.MARKDOWN, key="md"
        )
        assert notifier.send(message).status is DeliveryStatus.OK

    def test_contract_a_very_long_message_is_cut_or_refused_permanently(
        self, notifier: Notifier
    ) -> None:
        message = contract_message("绩效" * 40_000, key="contract-long")
        result = notifier.send(message)
        assert result.status in (DeliveryStatus.OK, DeliveryStatus.PERMANENT), result.detail

    def test_contract_an_unreachable_peer_is_retryable_not_an_exception(
        self, down_notifier: Notifier | None, secrets: list[str]
    ) -> None:
        if down_notifier is None:
            pytest.skip("this channel has no peer")
        result = down_notifier.send(contract_message())
        assert result.status is DeliveryStatus.RETRYABLE, result.detail
        _no_secret(result, secrets)

    def test_contract_repr_never_shows_secrets(
        self, notifier: Notifier, down_notifier: Notifier | None, secrets: list[str]
    ) -> None:
        for channel in (notifier, down_notifier):
            for secret in secrets:
                assert secret not in repr(channel)

    def test_contract_the_same_dedupe_key_may_be_sent_again(self, notifier: Notifier) -> None:
        first = notifier.send(contract_message(key="again"))
        second = notifier.send(contract_message(key="again"))
        assert first.status is DeliveryStatus.OK, first.detail
        assert second.status is DeliveryStatus.OK, second.detail
