"""Built-in evidence sources, registered by ``perfcore_adapters.builtin_plugin``.

* :mod:`perfcore_adapters.sources.files` — ``csv`` and ``excel``;
* :mod:`perfcore_adapters.sources.rest` — ``rest`` (generic JSON APIs);
* :mod:`perfcore_adapters.sources.sql` — ``sql`` (read-only reporting queries).

Import the submodule you need; nothing is imported here so loading plugins stays cheap.
"""
