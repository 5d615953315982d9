"""The store: connections, the roster, staging, sync runs, changes, checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import rostersync.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('settings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('secrets', sa.Text(), nullable=False),
    sa.Column('hold_delete_percent', sa.Float(), nullable=False),
    sa.Column('hold_update_percent', sa.Float(), nullable=False),
    sa.Column('hold_min_records', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('last_applied_run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connections')),
    sa.UniqueConstraint('name', name=op.f('uq_connections_name'))
    )
    op.create_table('changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('changed_fields', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_changes_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_changes_connection_id_id'), ['connection_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_changes_connection_id_kind_sourced_id'), ['connection_id', 'kind', 'sourced_id'], unique=False)

    op.create_table('checkpoints',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=False),
    sa.Column('value', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_checkpoints_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'collection', name=op.f('pk_checkpoints'))
    )
    op.create_table('roster_academic_sessions',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Text(), nullable=True),
    sa.Column('end_date', sa.Text(), nullable=True),
    sa.Column('school_year', sa.Text(), nullable=True),
    sa.Column('parent_sourced_id', sa.Text(), nullable=True),
    sa.Column('org_sourced_id', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_academic_sessions_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_academic_sessions'))
    )
    op.create_table('roster_classes',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('class_code', sa.Text(), nullable=True),
    sa.Column('class_type', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('course_sourced_id', sa.Text(), nullable=True),
    sa.Column('school_sourced_id', sa.Text(), nullable=True),
    sa.Column('term_sourced_ids', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_classes_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_classes'))
    )
    with op.batch_alter_table('roster_classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_classes_connection_id_course_sourced_id'), ['connection_id', 'course_sourced_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_classes_connection_id_school_sourced_id'), ['connection_id', 'school_sourced_id'], unique=False)

    op.create_table('roster_courses',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('course_code', sa.Text(), nullable=True),
    sa.Column('school_year_sourced_id', sa.Text(), nullable=True),
    sa.Column('org_sourced_id', sa.Text(), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_courses_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_courses'))
    )
    op.create_table('roster_demographics',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_demographics_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_demographics'))
    )
    op.create_table('roster_enrollments',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_sourced_id', sa.Text(), nullable=True),
    sa.Column('class_sourced_id', sa.Text(), nullable=True),
    sa.Column('school_sourced_id', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('primary', sa.Boolean(), nullable=True),
    sa.Column('begin_date', sa.Text(), nullable=True),
    sa.Column('end_date', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_enrollments_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_enrollments'))
    )
    with op.batch_alter_table('roster_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_enrollments_connection_id_class_sourced_id'), ['connection_id', 'class_sourced_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_enrollments_connection_id_user_sourced_id'), ['connection_id', 'user_sourced_id'], unique=False)

    op.create_table('roster_orgs',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('identifier', sa.Text(), nullable=True),
    sa.Column('parent_sourced_id', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_orgs_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_orgs'))
    )
    op.create_table('roster_users',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('username', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('preferred_first_name', sa.Text(), nullable=True),
    sa.Column('preferred_last_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('identifier', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('enabled_user', sa.Boolean(), nullable=True),
    sa.Column('org_sourced_ids', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('primary_org_sourced_id', sa.Text(), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_roster_users_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'sourced_id', name=op.f('pk_roster_users'))
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('started_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('base_run_id', sa.Integer(), nullable=True),
    sa.Column('records_read', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('collections', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('unresolved', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('warnings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('errors', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('hold_reasons', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pending_checkpoints', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_sync_runs_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_connection_id_id'), ['connection_id', 'id'], unique=False)

    op.create_table('staged_academic_sessions',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Text(), nullable=True),
    sa.Column('end_date', sa.Text(), nullable=True),
    sa.Column('school_year', sa.Text(), nullable=True),
    sa.Column('parent_sourced_id', sa.Text(), nullable=True),
    sa.Column('org_sourced_id', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_academic_sessions_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_academic_sessions'))
    )
    op.create_table('staged_classes',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('class_code', sa.Text(), nullable=True),
    sa.Column('class_type', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('course_sourced_id', sa.Text(), nullable=True),
    sa.Column('school_sourced_id', sa.Text(), nullable=True),
    sa.Column('term_sourced_ids', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_classes_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_classes'))
    )
    op.create_table('staged_courses',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('course_code', sa.Text(), nullable=True),
    sa.Column('school_year_sourced_id', sa.Text(), nullable=True),
    sa.Column('org_sourced_id', sa.Text(), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_courses_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_courses'))
    )
    op.create_table('staged_demographics',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_demographics_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_demographics'))
    )
    op.create_table('staged_enrollments',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_sourced_id', sa.Text(), nullable=True),
    sa.Column('class_sourced_id', sa.Text(), nullable=True),
    sa.Column('school_sourced_id', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('primary', sa.Boolean(), nullable=True),
    sa.Column('begin_date', sa.Text(), nullable=True),
    sa.Column('end_date', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_enrollments_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_enrollments'))
    )
    op.create_table('staged_orgs',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('identifier', sa.Text(), nullable=True),
    sa.Column('parent_sourced_id', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_orgs_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_orgs'))
    )
    op.create_table('staged_users',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=255), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=True),
    sa.Column('skip', sa.Boolean(), nullable=False),
    sa.Column('dup_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('date_last_modified', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('username', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('preferred_first_name', sa.Text(), nullable=True),
    sa.Column('preferred_last_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('identifier', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('enabled_user', sa.Boolean(), nullable=True),
    sa.Column('org_sourced_ids', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('primary_org_sourced_id', sa.Text(), nullable=True),
    sa.Column('grades', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('raw', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('content_hash', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_staged_users_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'sourced_id', name=op.f('pk_staged_users'))
    )


def downgrade() -> None:
    op.drop_table('staged_users')
    op.drop_table('staged_orgs')
    op.drop_table('staged_enrollments')
    op.drop_table('staged_demographics')
    op.drop_table('staged_courses')
    op.drop_table('staged_classes')
    op.drop_table('staged_academic_sessions')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_connection_id_id'))

    op.drop_table('sync_runs')
    op.drop_table('roster_users')
    op.drop_table('roster_orgs')
    with op.batch_alter_table('roster_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_enrollments_connection_id_user_sourced_id'))
        batch_op.drop_index(batch_op.f('ix_roster_enrollments_connection_id_class_sourced_id'))

    op.drop_table('roster_enrollments')
    op.drop_table('roster_demographics')
    op.drop_table('roster_courses')
    with op.batch_alter_table('roster_classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_classes_connection_id_school_sourced_id'))
        batch_op.drop_index(batch_op.f('ix_roster_classes_connection_id_course_sourced_id'))

    op.drop_table('roster_classes')
    op.drop_table('roster_academic_sessions')
    op.drop_table('checkpoints')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_changes_connection_id_kind_sourced_id'))
        batch_op.drop_index(batch_op.f('ix_changes_connection_id_id'))

    op.drop_table('changes')
    op.drop_table('connections')
