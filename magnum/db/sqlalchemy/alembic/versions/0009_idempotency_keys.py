"""Idempotency keys of creates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A cluster or bay create that carries an ``Idempotency-Key`` header records
the key, the digest of its request and the bay it made; a repeat within
``[api] idempotency_window`` answers with that bay. The bay's uuid is not
a foreign key: the key outlives a deleted bay for the rest of its window.
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_key',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('digest', sa.String(64), nullable=False),
        sa.Column('bay_uuid', sa.String(36), nullable=False),
        sa.UniqueConstraint('project_id', 'key',
                            name='uniq_idempotency_key0project_id0key'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')


def downgrade():
    op.drop_table('idempotency_key')
