"""retention: holds, schedule assignments, retention events, disposition batches, tombstones

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:14:02.859214
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disposition_batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('schedule_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approvals', sa.JSON(), nullable=False),
    sa.Column('executed_by', sa.String(length=255), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('certificate_key', sa.String(length=1024), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_batches'))
    )
    op.create_table('holds',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('matter', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=255), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    op.create_table('disposition_items',
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('eligible_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['disposition_batches.id'], name=op.f('fk_disposition_items_batch_id_disposition_batches')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_disposition_items_record_id_records')),
    sa.PrimaryKeyConstraint('batch_id', 'record_id', name=op.f('pk_disposition_items'))
    )
    op.create_table('retention_events',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('record_id', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_retention_events_account_id_accounts')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_retention_events_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_events'))
    )
    with op.batch_alter_table('retention_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_events_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retention_events_record_id'), ['record_id'], unique=False)

    op.create_table('schedule_assignments',
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('assigned_by', sa.String(length=255), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_schedule_assignments_record_id_records')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_schedule_assignments'))
    )
    op.create_table('tombstones',
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('authority', sa.String(length=255), nullable=False),
    sa.Column('approved_by', sa.JSON(), nullable=False),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('certificate_key', sa.String(length=1024), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['disposition_batches.id'], name=op.f('fk_tombstones_batch_id_disposition_batches')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_tombstones_record_id_records')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_tombstones'))
    )
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tombstones_batch_id'), ['batch_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tombstones_batch_id'))

    op.drop_table('tombstones')
    op.drop_table('schedule_assignments')
    with op.batch_alter_table('retention_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_events_record_id'))
        batch_op.drop_index(batch_op.f('ix_retention_events_account_id'))

    op.drop_table('retention_events')
    op.drop_table('disposition_items')
    op.drop_table('holds')
    op.drop_table('disposition_batches')
