"""The pure domain: what is measured, how it is scored, and the loop that acts on scores.

Depends only on the standard library and attrs. Submodules are imported explicitly
(``from perfcore.domain.values import Period``); this package imports nothing eagerly.
"""
