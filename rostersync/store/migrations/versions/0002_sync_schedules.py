"""Schedules: per-connection sync windows, nights claimed and done, outcomes, Error state.

Revision ID: 0002_schedules
Revises: 0001
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa

import rostersync.store.types

revision = "0002_schedules"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_schedules',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.String(length=5), nullable=True),
    sa.Column('window_end', sa.String(length=5), nullable=True),
    sa.Column('full_weekday', sa.Integer(), nullable=True),
    sa.Column('summer_pause_start', sa.Date(), nullable=True),
    sa.Column('summer_pause_end', sa.Date(), nullable=True),
    sa.Column('claimed_night', sa.Date(), nullable=True),
    sa.Column('claimed_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_night', sa.Date(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retry_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.String(length=16), nullable=True),
    sa.Column('last_message', sa.Text(), nullable=True),
    sa.Column('last_fix', sa.Text(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('last_outcome_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_since', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_marker', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_sync_schedules_connection_id_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_sync_schedules'))
    )


def downgrade() -> None:
    op.drop_table('sync_schedules')
