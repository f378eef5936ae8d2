"""Vectorised back ends for the formula language (optional extra ``perfcore[polars]``).

``from perfcore_adapters.vectorised.polars_backend import to_polars`` — importing this package
does not import polars; only the back-end module does.
"""

__all__: list[str] = []
