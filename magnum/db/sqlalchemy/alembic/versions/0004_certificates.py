"""Certificates: each bay's CA, server and conductor certificates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'bay_certificate',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('bay_uuid', sa.String(36), nullable=False),
        sa.Column('generation', sa.Integer, nullable=False),
        sa.Column('ca_cert', sa.Text, nullable=False),
        sa.Column('ca_key', sa.Text, nullable=False),
        sa.Column('server_cert', sa.Text, nullable=False),
        sa.Column('server_key', sa.Text, nullable=False),
        sa.Column('client_cert', sa.Text, nullable=False),
        sa.Column('client_key', sa.Text, nullable=False),
        sa.Column('endpoint_tls', sa.Boolean, nullable=False),
        sa.UniqueConstraint('bay_uuid', name='uniq_bay_certificate0bay_uuid'),
        sa.ForeignKeyConstraint(['bay_uuid'], ['bay.uuid'],
                                name='bay_certificate_bay_fk',
                                ondelete='CASCADE'),
        **_MYSQL)


def downgrade():
    op.drop_table('bay_certificate')
