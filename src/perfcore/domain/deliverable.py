"""Deliverable requirements as declarative rules checked against file metadata.

The NPI scenario (new product introduction, ``examples/npi``) asks for automatic validation
such as "the mould acceptance report must be a PDF and contain a signature page". The domain
does not open files: an adapter extracts :class:`DeliverableMetadata` (file name, MIME type,
size, pages with labels such as ``"signature"``) and the domain checks the declared rules
against it.

Rules are plain data, so a plan can declare them (:func:`parse_rule`)::

    {"file_kind": "pdf"}            FileKind("pdf")
    {"contains_page": "signature"}  ContainsPage("signature")
    {"max_size_mb": 20}             MaxSize(20 * 1024 * 1024)
    {"min_pages": 2}                MinPages(2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from attrs import field, frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.evidence import Reason

__all__ = [
    "FILE_KINDS",
    "ContainsPage",
    "DeliverableMetadata",
    "DeliverableRequirement",
    "FileKind",
    "MaxSize",
    "MinPages",
    "Page",
    "Rule",
    "parse_rule",
]

#: File kinds a rule may name, with the MIME types and file extensions that satisfy them.
FILE_KINDS: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = {
    "pdf": (frozenset({"application/pdf"}), frozenset({".pdf"})),
    "docx": (
        frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
        frozenset({".docx"}),
    ),
    "xlsx": (
        frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        frozenset({".xlsx"}),
    ),
    "csv": (frozenset({"text/csv"}), frozenset({".csv"})),
    "png": (frozenset({"image/png"}), frozenset({".png"})),
    "jpeg": (frozenset({"image/jpeg"}), frozenset({".jpg", ".jpeg"})),
    "step": (frozenset({"model/step", "application/step"}), frozenset({".step", ".stp"})),
}


@frozen
class Page:
    """One page of a document: its 1-based ``number`` and the ``labels`` an adapter found on it
    (e.g. ``{"signature"}``, ``{"cover"}``)."""

    number: int
    labels: frozenset[str] = field(default=frozenset(), converter=frozenset)


@frozen
class DeliverableMetadata:
    """What an adapter knows about an uploaded file. ``size_bytes`` >= 0."""

    filename: str
    mime_type: str
    size_bytes: int
    pages: tuple[Page, ...] = field(default=(), converter=tuple)

    @property
    def page_count(self) -> int:
        """Number of pages reported."""
        return len(self.pages)

    @property
    def extension(self) -> str:
        """Lower-case file extension with the dot (``".pdf"``), or ``""``."""
        name = self.filename.rsplit("/", 1)[-1]
        return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


def _check_kind(instance: object, attribute: object, value: str) -> None:
    if value not in FILE_KINDS:
        raise InvalidValue(
            f"unknown file kind {value!r}", field="file_kind", valid=", ".join(sorted(FILE_KINDS))
        )


@frozen
class FileKind:
    """The file must be of ``kind`` — both its MIME type and its extension must match."""

    kind: str = field(validator=_check_kind)

    def describe(self) -> str:
        """Plain words for people."""
        return f"must be a {self.kind.upper()} file"

    def check(self, meta: DeliverableMetadata, path: str) -> Reason | None:
        """A reason when the file is of another kind, else None."""
        mimes, exts = FILE_KINDS[self.kind]
        if meta.mime_type.split(";")[0].strip().lower() in mimes and meta.extension in exts:
            return None
        return Reason(
            f"{path}.file_kind",
            f"{meta.filename!r} is {meta.mime_type}, not {self.kind}",
            f"a {self.kind} file ({', '.join(sorted(exts))})",
        )


@frozen
class ContainsPage:
    """At least one page must carry ``label`` (e.g. a signature page)."""

    label: str

    def describe(self) -> str:
        """Plain words for people."""
        return f"must contain a {self.label} page"

    def check(self, meta: DeliverableMetadata, path: str) -> Reason | None:
        """A reason when no page has the label, else None."""
        if any(self.label in p.labels for p in meta.pages):
            return None
        return Reason(
            f"{path}.pages",
            f"no page labelled {self.label!r} among {meta.page_count} page(s)",
            f"a document with a {self.label} page",
        )


def _non_negative(instance: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{value!r} is not a count", field="rule", valid="an integer >= 0")


@frozen
class MaxSize:
    """The file must not be larger than ``bytes``."""

    bytes: int = field(validator=_non_negative)

    def describe(self) -> str:
        """Plain words for people."""
        return f"must be at most {self.bytes} bytes"

    def check(self, meta: DeliverableMetadata, path: str) -> Reason | None:
        """A reason when the file is too large, else None."""
        if meta.size_bytes <= self.bytes:
            return None
        return Reason(
            f"{path}.size_bytes", f"{meta.size_bytes} bytes is too large", f"<= {self.bytes}"
        )


@frozen
class MinPages:
    """The document must have at least ``count`` pages."""

    count: int = field(validator=_non_negative)

    def describe(self) -> str:
        """Plain words for people."""
        return f"must have at least {self.count} page(s)"

    def check(self, meta: DeliverableMetadata, path: str) -> Reason | None:
        """A reason when the document is too short, else None."""
        if meta.page_count >= self.count:
            return None
        return Reason(f"{path}.pages", f"{meta.page_count} page(s)", f">= {self.count} pages")


Rule = FileKind | ContainsPage | MaxSize | MinPages

_RULE_KEYS: Final = "file_kind, contains_page, max_size_bytes, max_size_mb, min_pages"


def parse_rule(spec: Mapping[str, object], *, field: str = "rule") -> Rule:
    """Build a rule from its declarative form (one key, see the module docstring).

    Raises:
        InvalidValue: not exactly one known key, or a bad value; ``field`` is the path.
    """
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise InvalidValue("a rule has exactly one key", field=field, valid=_RULE_KEYS)
    ((key, value),) = spec.items()
    try:
        if key == "file_kind" and isinstance(value, str):
            return FileKind(value.lower())
        if key == "contains_page" and isinstance(value, str) and value.strip():
            return ContainsPage(value.strip())
        if key == "max_size_bytes" and isinstance(value, int):
            return MaxSize(value)
        if key == "max_size_mb" and isinstance(value, int | float) and not isinstance(value, bool):
            return MaxSize(int(value * 1024 * 1024))
        if key == "min_pages" and isinstance(value, int):
            return MinPages(value)
    except InvalidValue as exc:
        raise InvalidValue(exc.message, field=f"{field}.{key}", valid=exc.valid) from None
    if key in _RULE_KEYS.split(", "):
        raise InvalidValue(f"bad value {value!r}", field=f"{field}.{key}", valid=_hint(key))
    raise InvalidValue(f"unknown rule {key!r}", field=field, valid=_RULE_KEYS)


def _hint(key: str) -> str:
    return {
        "file_kind": ", ".join(sorted(FILE_KINDS)),
        "contains_page": "a page label such as 'signature'",
    }.get(key, "an integer >= 0")


@frozen
class DeliverableRequirement:
    """A named deliverable (e.g. ``"mould_acceptance_report"``) and the rules it must satisfy."""

    name: str
    rules: tuple[Rule, ...] = field(default=(), converter=tuple)

    def describe(self) -> str:
        """Plain words: ``mould_acceptance_report must be a PDF file, must contain a ...``."""
        return f"{self.name} " + ", ".join(r.describe() for r in self.rules)

    def check(self, meta: DeliverableMetadata | None, path: str = "deliverables") -> list[Reason]:
        """Every broken rule (empty list = accepted). A missing file is one reason."""
        here = f"{path}.{self.name}"
        if meta is None:
            return [Reason(here, "deliverable is missing", self.describe())]
        return [r for r in (rule.check(meta, here) for rule in self.rules) if r is not None]
