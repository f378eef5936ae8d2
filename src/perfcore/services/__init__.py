"""The application layer: the closed loop as commands, events and handlers.

- :mod:`perfcore.services.commands` — what callers ask for (``RecordEvidence``, ``TickClock``...).
- :mod:`perfcore.services.messagebus` — ``MessageBus.handle(command)``: one handler per command
  (errors propagate), many per event (failures parked in the outbox and retried).
- :mod:`perfcore.services.handlers` — one module per area of the loop.
- :mod:`perfcore.services.queries` — the read side (scorecards, dashboards, inbox, grid, ledger).
- :mod:`perfcore.services.templates` — notification texts in English and Chinese.

Build a bus with :func:`perfcore.bootstrap.bootstrap`.
"""
