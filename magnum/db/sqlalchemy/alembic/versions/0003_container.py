"""Containers on Docker and Swarm bays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'container',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('image', sa.String(255), nullable=False),
        sa.Column('command', sa.Text),
        sa.Column('bay_uuid', sa.String(36), nullable=False),
        sa.Column('memory', sa.String(255)),
        sa.Column('environment', sa.Text),
        sa.Column('labels', sa.Text),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('status_reason', sa.Text),
        sa.Column('container_id', sa.String(255)),
        sa.UniqueConstraint('uuid', name='uniq_container0uuid'),
        sa.ForeignKeyConstraint(['bay_uuid'], ['bay.uuid'],
                                name='container_bay_fk', ondelete='CASCADE'),
        **_MYSQL)
    op.create_index('container_project_id_idx', 'container', ['project_id'])
    op.create_index('container_name_idx', 'container', ['name'])
    op.create_index('container_bay_uuid_idx', 'container', ['bay_uuid'])


def downgrade():
    op.drop_table('container')
