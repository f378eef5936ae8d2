"""Initial schema: evidence (with typed field slots), field slots, quarantine, aggregates,
scorecards, plans, period scorings, ledger, bookmarks, outbox, audit events, settings.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 20:37:58.269472
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "aggregates",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_aggregates")),
    )
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aggregates_kind_subject_kind_subject_id"),
            ["kind", "subject_kind", "subject_id"],
            unique=False,
        )

    op.create_table(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("committed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_event_type_seq"), ["event_type", "seq"], unique=False
        )

    op.create_table(
        "bookmarks",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", "partition", name=op.f("pk_bookmarks")),
    )
    op.create_table(
        "evidence",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("evidence_type", sa.String(length=100), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("period_day", sa.String(length=10), nullable=False),
        sa.Column("period_month", sa.String(length=7), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=200), server_default="", nullable=False),
        sa.Column("external_id", sa.String(length=400), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("supersedes", sa.String(length=400), nullable=True),
        sa.Column("is_current", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("field_types", sa.String(length=400), nullable=True),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("n0", sa.Numeric(), nullable=True),
        sa.Column("n1", sa.Numeric(), nullable=True),
        sa.Column("n2", sa.Numeric(), nullable=True),
        sa.Column("n3", sa.Numeric(), nullable=True),
        sa.Column("n4", sa.Numeric(), nullable=True),
        sa.Column("n5", sa.Numeric(), nullable=True),
        sa.Column("n6", sa.Numeric(), nullable=True),
        sa.Column("n7", sa.Numeric(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_evidence")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_evidence_idempotency_key")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_subject_kind_subject_id_occurred_at"),
            ["subject_kind", "subject_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_evidence_type_month_covering",
            [
                "evidence_type",
                "period_month",
                "subject_kind",
                "subject_id",
                "is_current",
                "period_day",
                "n0",
                "n1",
                "n2",
                "n3",
                "n4",
                "n5",
                "n6",
                "n7",
            ],
            unique=False,
        )

    op.create_table(
        "field_slots",
        sa.Column("evidence_type", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("evidence_type", "field", name=op.f("pk_field_slots")),
        sa.UniqueConstraint(
            "evidence_type", "slot", name=op.f("uq_field_slots_evidence_type_slot")
        ),
    )
    op.create_table(
        "ledger",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_key")),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_subject_kind_subject_id_seq"),
            ["subject_kind", "subject_id", "seq"],
            unique=False,
        )

    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=400), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "period_scorings",
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period_key", "subject_kind", "subject_id", name=op.f("pk_period_scorings")
        ),
    )
    op.create_table(
        "plan_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_plan_versions")),
    )
    op.create_table(
        "quarantine",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field_path", sa.String(length=400), server_default="", nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_source_received_at"), ["source", "received_at"], unique=False
        )

    op.create_table(
        "scorecards",
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("total", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period_key", "subject_kind", "subject_id", name=op.f("pk_scorecards")
        ),
    )
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scorecards_subject_kind_subject_id_period_key"),
            ["subject_kind", "subject_id", "period_key"],
            unique=False,
        )

    op.create_table(
        "settings",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_settings")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("settings")
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scorecards_subject_kind_subject_id_period_key"))

    op.drop_table("scorecards")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_source_received_at"))

    op.drop_table("quarantine")
    op.drop_table("plan_versions")
    op.drop_table("period_scorings")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status_next_attempt_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_subject_kind_subject_id_seq"))

    op.drop_table("ledger")
    op.drop_table("field_slots")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_type_month_covering")
        batch_op.drop_index(batch_op.f("ix_evidence_subject_kind_subject_id_occurred_at"))

    op.drop_table("evidence")
    op.drop_table("bookmarks")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_event_type_seq"))

    op.drop_table("audit_events")
    with op.batch_alter_table("aggregates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aggregates_kind_subject_kind_subject_id"))

    op.drop_table("aggregates")
