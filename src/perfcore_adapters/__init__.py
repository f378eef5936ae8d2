"""Driven and driving adapters for perfcore (storage, sources, notifiers, HTTP, CLI).

Adapters depend inward on :mod:`perfcore`; nothing in :mod:`perfcore.domain` or
:mod:`perfcore.formula` may import from here.
"""
