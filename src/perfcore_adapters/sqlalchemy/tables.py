"""Tables of the perfcore store (SQLAlchemy Core only; the domain never sees them).

One :data:`metadata` with a naming convention, so constraint and index names are deterministic
and Alembic migrations can name what they drop. Times are stored as **UTC without zone**
(``DateTime()``); the mappers attach ``UTC`` when reading. Evidence keeps its query keys in real
columns (subject, type, instant, the local day and month in the plan's time zone, idempotency
key, correction chain) and its typed fields in a JSON document; other aggregates are stored as
tagged JSON documents (:mod:`perfcore_adapters.sqlalchemy.codec`) next to the columns that are
queried.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "NAMING_CONVENTION",
    "aggregates",
    "audit_events",
    "bookmarks",
    "evidence",
    "field_slots",
    "ledger",
    "metadata",
    "outbox",
    "period_scorings",
    "plan_versions",
    "quarantine",
    "scorecards",
    "settings",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # sqlite: rowid alias
Utc = sa.DateTime()


def _subject() -> list[sa.Column[str]]:
    return [
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
    ]


evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(400), nullable=False, unique=True),
    sa.Column("evidence_type", sa.String(100), nullable=False),
    *_subject(),
    sa.Column("occurred_at", Utc, nullable=False),
    sa.Column("period_day", sa.String(10), nullable=False),
    sa.Column("period_month", sa.String(7), nullable=False),
    sa.Column("recorded_at", Utc, nullable=False),
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.Column("external_id", sa.String(400), nullable=False, server_default=""),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("supersedes", sa.String(400), nullable=True),
    sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("fields", Json, nullable=False),
    sa.Column("field_types", sa.String(400), nullable=True),
    sa.Column("doc", Json, nullable=True),
    *(sa.Column(f"n{i}", sa.Numeric(), nullable=True) for i in range(8)),
    sa.Index(None, "subject_kind", "subject_id", "occurred_at"),
    sa.Index(None, "source", "external_id", "version"),
    sa.Index(
        "ix_evidence_type_month_covering",
        "evidence_type",
        "period_month",
        "subject_kind",
        "subject_id",
        "is_current",
        "period_day",
        *(f"n{i}" for i in range(8)),
    ),
)
"""Accepted evidence. ``seq`` orders arrival (the incremental refresh reads rows past a
watermark); ``period_day``/``period_month`` are local keys in the plan's time zone stored at
ingest; ``is_current`` is false once a correction superseded the row; ``fields`` holds the typed
values (numbers as JSON numbers, dates ``YYYY-MM-DD``, date-times UTC
``YYYY-MM-DD HH:MM:SS.ffffff``, durations in seconds, booleans), ``field_types`` the non-JSON
types needed to read them back (``name:type,...``); ``doc`` holds items that are not
``AcceptedEvidence``. ``n0``..``n7`` are typed copies of up to eight number, duration (seconds)
and boolean (1/0) fields per evidence type, as assigned in ``field_slots``: aggregates read them
instead of parsing JSON (about 10x faster on SQLite). The second index covers them, so monthly
and windowed aggregates over slot fields never touch the table rows."""

NUMERIC_SLOTS = 8

field_slots = sa.Table(
    "field_slots",
    metadata,
    sa.Column("evidence_type", sa.String(100), primary_key=True),
    sa.Column("field", sa.String(100), primary_key=True),
    sa.Column("slot", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.UniqueConstraint("evidence_type", "slot"),
)
"""Which ``evidence.n<slot>`` column holds a field of an evidence type (assigned the first time a
typed value of the field is stored; never reassigned). ``kind``: number, duration or boolean."""

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("field_path", sa.String(400), nullable=False, server_default=""),
    sa.Column("payload", Json, nullable=False),
    sa.Column("received_at", Utc, nullable=False),
    sa.Index(None, "source", "received_at"),
)

aggregates = sa.Table(
    "aggregates",
    metadata,
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("subject_kind", sa.String(20), nullable=True),
    sa.Column("subject_id", sa.String(200), nullable=True),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("doc", Json, nullable=False),
    sa.Column("updated_at", Utc, nullable=False),
    sa.Index(None, "kind", "subject_kind", "subject_id"),
)
"""Reviews, calibration sessions, milestones, alerts and diagnoses (``kind``) as documents with a
``row_version`` for optimistic concurrency."""

scorecards = sa.Table(
    "scorecards",
    metadata,
    sa.Column("period_key", sa.String(40), primary_key=True),
    sa.Column("subject_kind", sa.String(20), primary_key=True),
    sa.Column("subject_id", sa.String(200), primary_key=True),
    sa.Column("plan_version", sa.Integer(), nullable=True),
    sa.Column("total", sa.Numeric(18, 6), nullable=True),
    sa.Column("doc", Json, nullable=False),
    sa.Column("updated_at", Utc, nullable=False),
    sa.Index(None, "subject_kind", "subject_id", "period_key"),
)

plan_versions = sa.Table(
    "plan_versions",
    metadata,
    sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(400), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("applied_at", Utc, nullable=False),
)
"""Applied plans; the primary key on ``number`` is the optimistic lock: two writers applying
"latest + 1" concurrently → one insert wins, the other gets ``Conflict``."""

period_scorings = sa.Table(
    "period_scorings",
    metadata,
    sa.Column("period_key", sa.String(40), primary_key=True),
    sa.Column("subject_kind", sa.String(20), primary_key=True),
    sa.Column("subject_id", sa.String(200), primary_key=True),
    sa.Column("plan_version", sa.Integer(), nullable=False),
    sa.Column("computed_at", Utc, nullable=False),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, unique=True),
    *_subject(),
    sa.Column("at", Utc, nullable=False),
    sa.Column("doc", Json, nullable=False),
    sa.Index(None, "subject_kind", "subject_id", "seq"),
)
"""The append-only incentive ledger: rows are inserted, never updated or deleted."""

bookmarks = sa.Table(
    "bookmarks",
    metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
    sa.Column("partition", sa.String(200), primary_key=True),
    sa.Column("state", Json, nullable=False),
    sa.Column("updated_at", Utc, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("template", sa.String(200), nullable=False),
    sa.Column("recipient", sa.String(400), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("locale", sa.String(10), nullable=False),
    sa.Column("params", Json, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
    sa.Column("created_at", Utc, nullable=False),
    sa.Column("next_attempt_at", Utc, nullable=True),
    sa.Column("delivered_at", Utc, nullable=True),
    sa.Index(None, "status", "next_attempt_at"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("committed_at", Utc, nullable=False),
    sa.Index(None, "event_type", "seq"),
)
"""Domain events released by committed units of work, in commit order (written in the same
transaction as the change)."""

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)
"""Store-wide settings: ``period_tz`` (the zone the stored period keys are in) and
``scored_through_seq`` (the incremental refresh watermark)."""
