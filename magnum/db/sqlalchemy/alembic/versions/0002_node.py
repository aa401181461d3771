"""Nodes: the servers of a bay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'node',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('bay_uuid', sa.String(36)),
        sa.Column('type', sa.String(32)),
        sa.Column('image_id', sa.String(255)),
        sa.Column('ironic_node_id', sa.String(36)),
        sa.Column('server_id', sa.String(255)),
        sa.Column('name', sa.String(255)),
        sa.Column('addresses', sa.Text),
        sa.UniqueConstraint('uuid', name='uniq_node0uuid'),
        sa.ForeignKeyConstraint(['bay_uuid'], ['bay.uuid'],
                                name='node_bay_fk', ondelete='CASCADE'),
        **_MYSQL)
    op.create_index('node_project_id_idx', 'node', ['project_id'])
    op.create_index('node_bay_uuid_idx', 'node', ['bay_uuid'])


def downgrade():
    op.drop_table('node')
