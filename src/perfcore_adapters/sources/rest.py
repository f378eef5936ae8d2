"""Generic REST/JSON source.

Pure parts (paging decisions, record mapping) sit beside a thin httpx adapter built with
:func:`~perfcore_adapters.http.make_client`; every request goes through one
:class:`~perfcore_adapters.http.RetryPolicy`.

* Pagination styles (after the Meltano Singer SDK paginators, https://github.com/meltano/sdk,
  ``singer_sdk/pagination.py``): ``none``, ``offset``
  (offset/limit), ``page`` (page number), ``cursor`` (opaque token in the body), ``next_link``
  (URL in the body, e.g. OData ``@odata.nextLink``), ``link_header`` (RFC 8288
  ``Link: <...>; rel="next"``). A token or link seen twice is an error (loop detection) and
  ``max_pages`` bounds every read.
* Incremental sync: the stream's cursor (a date-time) is the watermark; requests send
  ``since_param = watermark - lookback`` and records are filtered client-side too, with ties at
  the watermark handled by id (:class:`~perfcore.plugins.incremental.WatermarkTracker`). The
  bookmark is promoted only when a partition was read to the end, so an interrupted sync never
  skips records of an unsorted stream.
* Field mapping with a small JSONPath subset (:mod:`perfcore_adapters.sources.jsonpath`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import attrs
import httpx
from attrs import frozen

from perfcore.domain.errors import InvalidValue, NotFound, PerfcoreError
from perfcore.plugins.incremental import WatermarkTracker, encode_cursor
from perfcore.ports.sources import (
    CheckResult,
    FieldSpec,
    FieldType,
    RawRecord,
    RecordBatch,
    Rejection,
    SourceState,
    StreamSpec,
)
from perfcore_adapters.http import HttpError, RetryPolicy, make_client, redact_url
from perfcore_adapters.sources._coerce import CoercionError, CoercionOptions, coerce
from perfcore_adapters.sources.jsonpath import compile_path, extract

__all__ = [
    "FieldMap",
    "PaginationError",
    "PaginationStyle",
    "Paging",
    "RestConfig",
    "RestSource",
    "RestStream",
]

PaginationStyle = Literal["none", "offset", "page", "cursor", "next_link", "link_header"]


class PaginationError(PerfcoreError):
    """The server's paging went in a loop or past ``max_pages``."""


@frozen
class Paging:
    """How a stream pages.

    Attributes:
        style: see module docs.
        page_size: records asked per page (``size_param``); a short page ends offset/page
            paging.
        size_param: query parameter for the page size (``limit``, ``per_page``, ``$top``).
        offset_param: offset parameter (``offset``, ``$skip``).
        page_param: page-number parameter.
        first_page: number of the first page (0 or 1).
        cursor_param: parameter that carries the cursor token.
        cursor_path: where the next cursor token is in the body.
        next_path: where the next-page URL is in the body.
        max_pages: hard limit of pages per read.
    """

    style: PaginationStyle = "none"
    page_size: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    size_param: str = "limit"
    offset_param: str = "offset"
    page_param: str = "page"
    first_page: int = 1
    cursor_param: str = "cursor"
    cursor_path: str = "$.next_cursor"
    next_path: str = "$.next"
    max_pages: int = attrs.field(default=10_000, validator=attrs.validators.ge(1))


@frozen
class FieldMap:
    """A record field: JSONPath into the vendor record and the type to coerce to."""

    path: str
    type: FieldType = FieldType.TEXT


@frozen
class RestStream:
    """One endpoint read as a stream.

    Attributes:
        name: stream name.
        path: URL path relative to ``base_url``.
        occurred_at: JSONPath of the record's instant (date-time; also the cursor).
        id_path: JSONPath of the record's id.
        records_path: JSONPath of the record list in a page (``$`` = the body is the list).
        fields: field name -> :class:`FieldMap`.
        params: fixed query parameters.
        since_param: query parameter receiving the incremental lower bound (ISO-8601), or
            ``None`` for a server without one (filtering then happens client-side only).
        lookback_seconds: re-read this far before the watermark (late changes).
        partition_param: query parameter selecting a partition (plant, store ...).
        partitions: partition values; each has its own bookmark.
        paging: :class:`Paging`.
    """

    name: str
    path: str
    occurred_at: str
    id_path: str = "$.id"
    records_path: str = "$"
    fields: dict[str, FieldMap] = attrs.field(factory=dict)
    params: dict[str, str] = attrs.field(factory=dict)
    since_param: str | None = None
    lookback_seconds: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    partition_param: str | None = None
    partitions: list[str] = attrs.field(factory=list)
    paging: Paging = Paging()


@frozen
class RestConfig:
    """Configuration of a ``rest`` source.

    Attributes:
        base_url: ``https://erp.example.com/api/``.
        streams: the endpoints.
        headers: extra headers (sent as-is; redacted in logs).
        bearer_token: sent as ``Authorization: Bearer ...``.
        timezone: zone for naive date-times in responses.
        timeout_seconds: read/write timeout (connect is 5 s).
        retry_attempts: attempts per request (see ``RetryPolicy``).
        check_path: path fetched by ``check()`` (default: the first stream with a page of 1).
    """

    base_url: str
    streams: list[RestStream]
    headers: dict[str, str] = attrs.field(factory=dict)
    bearer_token: str | None = None
    timezone: str = "UTC"
    timeout_seconds: float = 30.0
    retry_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    check_path: str | None = None


class RestSource:
    """An :class:`~perfcore.ports.sources.EvidenceSource` over a JSON API.

    Args:
        config: the :class:`RestConfig`.
        transport: httpx transport (tests: ``httpx.MockTransport``); default: the network.
        retry: retry policy (default: ``RetryPolicy(attempts=config.retry_attempts)``).

    Raises:
        InvalidValue: a JSONPath in the config does not parse, or stream names repeat.
    """

    def __init__(
        self,
        config: RestConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        from perfcore.domain.values import zone

        names = [s.name for s in config.streams]
        if len(set(names)) != len(names):
            raise InvalidValue("stream names must be unique", field="streams", valid=str(names))
        for i, stream in enumerate(config.streams):
            paths = {
                "occurred_at": stream.occurred_at,
                "id_path": stream.id_path,
                "records_path": stream.records_path,
                "paging.cursor_path": stream.paging.cursor_path,
                "paging.next_path": stream.paging.next_path,
            }
            paths.update({f"fields.{n}.path": f.path for n, f in stream.fields.items()})
            for where, path in paths.items():
                try:
                    compile_path(path)
                except InvalidValue as exc:
                    raise InvalidValue(
                        exc.message, field=f"streams[{i}].{where}", valid=exc.valid
                    ) from None
        self.config = config
        self._options = CoercionOptions(tz=zone(config.timezone))
        headers = dict(config.headers)
        if config.bearer_token:
            headers["Authorization"] = f"Bearer {config.bearer_token}"
        self._client = make_client(
            config.base_url,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_seconds, connect=5.0),
            transport=transport,
        )
        self._retry = retry or RetryPolicy(attempts=config.retry_attempts)

    # ------------------------------------------------------------------ port

    def check(self) -> CheckResult:
        """GET ``check_path`` (or the first stream's first page, at most 2 attempts).

        Never raises for HTTP problems: they become a failed :class:`CheckResult`.
        """
        stream = self.config.streams[0] if self.config.streams else None
        path = self.config.check_path or (stream.path if stream else "")
        params: dict[str, str] = {}
        if self.config.check_path is None and stream and stream.paging.style in ("offset", "page"):
            params[stream.paging.size_param] = "1"
        probe = attrs.evolve(self._retry, attempts=min(self._retry.attempts, 2))
        try:
            probe.send(self._client, "GET", path, params=params)
        except HttpError as exc:
            return CheckResult.failure(str(exc))
        return CheckResult.success(redact_url(self._client.base_url.join(path)))

    def discover(self) -> list[StreamSpec]:
        """The configured streams; ``occurred_at`` is the cursor field."""
        out = []
        for stream in self.config.streams:
            fields = [FieldSpec(n, f.type) for n, f in stream.fields.items()]
            if "occurred_at" not in stream.fields:
                fields.append(FieldSpec("occurred_at", FieldType.DATETIME))
            out.append(StreamSpec(stream.name, fields, "occurred_at", ("id",)))
        return out

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Pages of ``stream`` after the bookmark, one batch per page, then a checkpoint.

        Raises:
            NotFound: unknown stream.
            HttpError: (while iterating) after retries; the bookmark is not advanced.
            PaginationError: paging loops or exceeds ``max_pages``.
        """
        spec = self._stream(stream)
        return self._read(spec, state or SourceState())

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    # ------------------------------------------------------------------ internals

    def _stream(self, name: str) -> RestStream:
        for stream in self.config.streams:
            if stream.name == name:
                return stream
        raise NotFound(
            f"unknown stream {name!r}",
            field="stream",
            valid=", ".join(s.name for s in self.config.streams),
        )

    def _read(self, spec: RestStream, state: SourceState) -> Iterator[RecordBatch]:
        delivered: set[str] = set()
        for partition in spec.partitions or [""]:
            tracker = WatermarkTracker(
                state.bookmark(spec.name, partition),
                FieldType.DATETIME,
                timedelta(seconds=spec.lookback_seconds),
            )
            params = dict(spec.params)
            if spec.partition_param and partition:
                params[spec.partition_param] = partition
            if spec.since_param and tracker.start is not None:
                params[spec.since_param] = encode_cursor(tracker.start)
            for url, items in self._pages(spec, params):
                records: list[RawRecord] = []
                rejections: list[Rejection] = []
                for index, item in enumerate(items):
                    location = f"{url}#{index}"
                    record, problem = self._record(spec, item, partition, location)
                    if problem is not None:
                        rejections.append(problem)
                        continue
                    assert record is not None
                    key = f"{partition}\x00{record.external_id}"
                    if key in delivered or not tracker.admit(
                        record.occurred_at, record.external_id
                    ):
                        continue
                    delivered.add(key)
                    records.append(record)
                yield RecordBatch(spec.name, records, state, rejections)
            state = state.with_bookmark(spec.name, tracker.bookmark(), partition)
            yield RecordBatch(spec.name, (), state)

    def _record(
        self, spec: RestStream, item: object, partition: str, location: str
    ) -> tuple[RawRecord | None, Rejection | None]:
        raw_id = extract(item, spec.id_path)
        if raw_id is None or raw_id == "":
            return None, Rejection(location, spec.id_path, "record has no id")
        try:
            occurred = coerce(extract(item, spec.occurred_at), FieldType.DATETIME, self._options)
        except CoercionError as exc:
            return None, Rejection(location, spec.occurred_at, str(exc))
        if not isinstance(occurred, datetime):
            return None, Rejection(location, spec.occurred_at, "record has no timestamp")
        data: dict[str, object] = {}
        for name, field in spec.fields.items():
            value = extract(item, field.path)
            try:
                data[name] = coerce(value, field.type, self._options)
            except CoercionError as exc:
                return None, Rejection(location, field.path, str(exc), str(value)[:200])
        data.setdefault("occurred_at", occurred)
        return RawRecord(data, str(raw_id), occurred, partition, location), None

    def _get(self, url: str, params: Mapping[str, str] | None) -> httpx.Response:
        if params is None:  # a next link carries its own query string
            return self._retry.send(self._client, "GET", url)
        return self._retry.send(self._client, "GET", url, params=dict(params))

    def _pages(self, spec: RestStream, params: dict[str, str]) -> Iterator[tuple[str, list[Any]]]:
        paging = spec.paging
        url: str | None = spec.path
        query: dict[str, str] | None = dict(params)
        seen: set[str] = set()
        number = paging.first_page
        offset = 0
        for _ in range(paging.max_pages):
            assert url is not None
            if paging.style == "offset":
                assert query is not None
                query[paging.size_param] = str(paging.page_size)
                query[paging.offset_param] = str(offset)
            elif paging.style == "page":
                assert query is not None
                query[paging.size_param] = str(paging.page_size)
                query[paging.page_param] = str(number)
            response = self._get(url, query)
            body = response.json()
            items = extract(body, spec.records_path)
            if not isinstance(items, list):
                raise InvalidValue(
                    f"{spec.records_path} is not a list in the response",
                    field=f"{spec.name}.records_path",
                    valid="a JSONPath to the record array",
                )
            yield redact_url(response.url), items
            follow: str | None = None
            if paging.style in ("offset", "page"):
                if len(items) < paging.page_size:
                    return
                offset += len(items)
                number += 1
                continue
            if paging.style == "cursor":
                token = extract(body, paging.cursor_path)
                if token in (None, ""):
                    return
                follow = str(token)
                assert query is not None
                query[paging.cursor_param] = follow
            elif paging.style == "next_link":
                link = extract(body, paging.next_path)
                if not link:
                    return
                follow = url = str(link)
                query = None
            elif paging.style == "link_header":
                link = response.links.get("next", {}).get("url")
                if not link:
                    return
                follow = url = str(link)
                query = None
            else:
                return
            if follow in seen:
                raise PaginationError(f"{spec.name}: the server repeated page token {follow!r}")
            seen.add(follow)
        raise PaginationError(f"{spec.name}: more than {paging.max_pages} pages")
