"""The web server's tables: staff users and sessions, login attempts, districts,
intake links, the audit log, notifications and the webhook.

Revision ID: 0003_web
Revises: 0002_schedules
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa

import rostersync.store.types

revision = "0003_web"
down_revision = "0002_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('connection_name', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('credentials_received_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('credentials_expire_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_districts')),
    sa.UniqueConstraint('connection_name', name=op.f('uq_web_districts_connection_name')),
    sa.UniqueConstraint('name', name=op.f('uq_web_districts_name'))
    )
    op.create_table('web_login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_login_attempts'))
    )
    op.create_index('ix_web_login_attempts_client_at', 'web_login_attempts', ['client', 'at'], unique=False)
    op.create_index('ix_web_login_attempts_username_at', 'web_login_attempts', ['username', 'at'], unique=False)

    op.create_table('web_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
    sa.UniqueConstraint('username', name=op.f('uq_web_users_username'))
    )
    op.create_table('web_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('secret_last4', sa.String(length=4), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_webhooks'))
    )
    op.create_table('web_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['web_districts.id'], name=op.f('fk_web_audit_log_district_id_web_districts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_audit_log'))
    )
    op.create_index('ix_web_audit_log_at', 'web_audit_log', ['at'], unique=False)

    op.create_table('web_intake_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['web_districts.id'], name=op.f('fk_web_intake_links_district_id_web_districts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_intake_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_intake_links_token_hash'))
    )
    op.create_table('web_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('read_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['web_districts.id'], name=op.f('fk_web_notifications_district_id_web_districts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_notifications'))
    )
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', rostersync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], name=op.f('fk_web_sessions_user_id_web_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions'))
    )


def downgrade() -> None:
    op.drop_table('web_sessions')
    op.drop_table('web_notifications')
    op.drop_table('web_intake_links')
    op.drop_index('ix_web_audit_log_at', table_name='web_audit_log')
    op.drop_table('web_audit_log')
    op.drop_table('web_webhooks')
    op.drop_table('web_users')
    op.drop_index('ix_web_login_attempts_username_at', table_name='web_login_attempts')
    op.drop_index('ix_web_login_attempts_client_at', table_name='web_login_attempts')
    op.drop_table('web_login_attempts')
    op.drop_table('web_districts')
