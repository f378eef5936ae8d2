"""Evidence corrections: index the version chain of a record by ``(source, external_id)``.

A correction (version n+1) is checked against every stored version of its record
(``EvidenceRepository.versions``); the index keeps that look-up from scanning the table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_source_external_id_version"),
            ["source", "external_id", "version"],
            unique=False,
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_source_external_id_version"))
