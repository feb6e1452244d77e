"""versions.warc_key index: disposition and Object Lock find an object's versions without a table scan

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_versions_warc_key'), 'versions', ['warc_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_versions_warc_key'), table_name='versions')
