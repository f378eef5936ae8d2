"""Console channel: prints each message (development, demos, the default channel).

Output, one block per message::

    [perfcore → M1] Review needed: E1
    A review of E1 was opened (...). Please complete it by ...

Always delivered.
"""

from __future__ import annotations

import sys
import threading
from typing import Literal, TextIO

from attrs import frozen

from perfcore.ports.notifications import DeliveryResult, Message

__all__ = ["ConsoleConfig", "ConsoleNotifier"]


@frozen
class ConsoleConfig:
    """Plan configuration of a ``console`` channel: ``stream`` is ``stdout`` or ``stderr``."""

    stream: Literal["stdout", "stderr"] = "stdout"


class ConsoleNotifier:
    """Prints messages to a text stream.

    Args:
        config: the plan configuration (default: stdout).
        stream: an explicit stream (tests: ``io.StringIO()``); overrides ``config.stream``.
    """

    kind = "console"

    def __init__(self, config: ConsoleConfig | None = None, *, stream: TextIO | None = None):
        self.config = config or ConsoleConfig()
        self._stream = stream
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ConsoleNotifier(stream={self.config.stream!r})"

    def send(self, message: Message) -> DeliveryResult:
        """Print ``message`` and answer delivered."""
        stream = self._stream or (sys.stderr if self.config.stream == "stderr" else sys.stdout)
        to = ", ".join(message.recipients) or "*"
        with self._lock:
            print(f"[perfcore → {to}] {message.subject}\n{message.body}", file=stream, flush=True)
        return DeliveryResult.delivered("console: printed")
