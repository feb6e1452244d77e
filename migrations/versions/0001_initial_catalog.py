"""initial catalog

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:02:04.504443
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('platform_account_id', sa.String(length=255), nullable=True),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.Column('owner_agency', sa.String(length=255), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('credentials_ref', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('platform', 'handle', name=op.f('uq_accounts_platform_handle'))
    )
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=1024), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_in', sa.String(length=1024), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    op.create_table('checkpoints',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('timestamp_key', sa.String(length=1024), nullable=True),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_checkpoints'))
    )
    op.create_table('log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('frontier', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_head'))
    )
    op.create_table('signing_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_keys'))
    )
    op.create_table('capture_runs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('collector', sa.String(length=64), nullable=False),
    sa.Column('collector_version', sa.String(length=32), nullable=False),
    sa.Column('settings_hash', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_capture_runs_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capture_runs'))
    )
    with op.batch_alter_table('capture_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capture_runs_account_id'), ['account_id'], unique=False)

    op.create_table('records',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('platform_id', sa.String(length=512), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_platform_id', sa.String(length=512), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('latest_state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_records_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('platform', 'platform_id', name=op.f('uq_records_platform_platform_id'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_account_posted', ['account_id', 'posted_at'], unique=False)

    op.create_table('log_batches',
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('first_index', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['capture_runs.id'], name=op.f('fk_log_batches_run_id_capture_runs')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_log_batches'))
    )
    with op.batch_alter_table('log_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_batches_first_index'), ['first_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_batches_run_id'), ['run_id'], unique=False)

    op.create_table('run_problems',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('item', sa.String(length=2048), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['capture_runs.id'], name=op.f('fk_run_problems_run_id_capture_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_problems'))
    )
    with op.batch_alter_table('run_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_problems_run_id'), ['run_id'], unique=False)

    op.create_table('warc_objects',
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('partition', sa.String(length=512), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('batch_key', sa.String(length=1024), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['capture_runs.id'], name=op.f('fk_warc_objects_run_id_capture_runs')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_warc_objects'))
    )
    with op.batch_alter_table('warc_objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warc_objects_partition'), ['partition'], unique=False)
        batch_op.create_index(batch_op.f('ix_warc_objects_run_id'), ['run_id'], unique=False)

    op.create_table('log_leaves',
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('batch_key', sa.String(length=1024), nullable=False),
    sa.ForeignKeyConstraint(['batch_key'], ['log_batches.key'], name=op.f('fk_log_leaves_batch_key_log_batches')),
    sa.PrimaryKeyConstraint('index', name=op.f('pk_log_leaves'))
    )
    op.create_table('versions',
    sa.Column('log_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('detection', sa.String(length=32), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('author', sa.String(length=512), nullable=True),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('previous_sha256', sa.String(length=64), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('warc_key', sa.String(length=1024), nullable=False),
    sa.Column('warc_offset', sa.BigInteger(), nullable=False),
    sa.Column('warc_length', sa.BigInteger(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['log_index'], ['log_leaves.index'], name=op.f('fk_versions_log_index_log_leaves')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_versions_record_id_records')),
    sa.ForeignKeyConstraint(['run_id'], ['capture_runs.id'], name=op.f('fk_versions_run_id_capture_runs')),
    sa.PrimaryKeyConstraint('log_index', name=op.f('pk_versions')),
    sa.UniqueConstraint('record_id', 'number', name=op.f('uq_versions_record_id_number'))
    )


def downgrade() -> None:
    op.drop_table('versions')
    op.drop_table('log_leaves')
    with op.batch_alter_table('warc_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warc_objects_run_id'))
        batch_op.drop_index(batch_op.f('ix_warc_objects_partition'))

    op.drop_table('warc_objects')
    with op.batch_alter_table('run_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_problems_run_id'))

    op.drop_table('run_problems')
    with op.batch_alter_table('log_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_batches_run_id'))
        batch_op.drop_index(batch_op.f('ix_log_batches_first_index'))

    op.drop_table('log_batches')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_account_posted')

    op.drop_table('records')
    with op.batch_alter_table('capture_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capture_runs_account_id'))

    op.drop_table('capture_runs')
    op.drop_table('signing_keys')
    op.drop_table('log_head')
    op.drop_table('checkpoints')
    op.drop_table('audit_events')
    op.drop_table('accounts')
