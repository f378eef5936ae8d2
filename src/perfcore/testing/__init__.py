"""perfcore's test harness, shipped for applications that embed perfcore.

- :mod:`perfcore.testing.fakes` — in-memory implementations of every port (unit of work and
  repositories, outbox, ``FakeClock``, ``RecordingNotifier``, ``StaticIdentityResolver``).
- :mod:`perfcore.testing.contract` — contract test suites each port implementation must pass.
- :mod:`perfcore.testing.sources` — the contract suite for evidence sources.
- :mod:`perfcore.testing.pytest_plugin` — opt-in fixtures
  (``pytest_plugins = ["perfcore.testing.pytest_plugin"]``).

See ``docs/testing.md``.
"""
