"""Initial schema: baymodel, bay and magnum_service.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _timestamps():
    return [sa.Column('created_at', sa.DateTime),
            sa.Column('updated_at', sa.DateTime)]


def upgrade():
    op.create_table(
        'baymodel',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('coe', sa.String(64), nullable=False),
        sa.Column('image_id', sa.String(255)),
        sa.Column('flavor_id', sa.String(255)),
        sa.Column('master_flavor_id', sa.String(255)),
        sa.Column('keypair_id', sa.String(255)),
        sa.Column('external_network_id', sa.String(255)),
        sa.Column('fixed_network', sa.String(255)),
        sa.Column('fixed_subnet', sa.String(255)),
        sa.Column('network_driver', sa.String(255)),
        sa.Column('volume_driver', sa.String(255)),
        sa.Column('dns_nameserver', sa.String(255)),
        sa.Column('apiserver_port', sa.Integer),
        sa.Column('docker_volume_size', sa.Integer),
        sa.Column('docker_storage_driver', sa.String(255)),
        sa.Column('cluster_distro', sa.String(255)),
        sa.Column('http_proxy', sa.String(255)),
        sa.Column('https_proxy', sa.String(255)),
        sa.Column('no_proxy', sa.String(1024)),
        sa.Column('registry_enabled', sa.Boolean, nullable=False),
        sa.Column('labels', sa.Text),
        sa.Column('tls_disabled', sa.Boolean, nullable=False),
        sa.Column('public', sa.Boolean, nullable=False),
        sa.Column('server_type', sa.String(32)),
        sa.Column('insecure_registry', sa.String(255)),
        sa.Column('master_lb_enabled', sa.Boolean, nullable=False),
        sa.Column('floating_ip_enabled', sa.Boolean, nullable=False),
        sa.Column('hidden', sa.Boolean, nullable=False),
        sa.Column('tags', sa.String(255)),
        sa.UniqueConstraint('uuid', name='uniq_baymodel0uuid'),
        **_MYSQL)
    op.create_index('baymodel_project_id_idx', 'baymodel', ['project_id'])
    op.create_index('baymodel_name_idx', 'baymodel', ['name'])

    op.create_table(
        'bay',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('baymodel_id', sa.String(36), nullable=False),
        sa.Column('provisioner', sa.String(64), nullable=False),
        sa.Column('node_count', sa.Integer, nullable=False),
        sa.Column('master_count', sa.Integer, nullable=False),
        sa.Column('bay_create_timeout', sa.Integer),
        sa.Column('discovery_url', sa.String(255)),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('status_reason', sa.Text),
        sa.Column('api_address', sa.String(255)),
        sa.Column('node_addresses', sa.Text),
        sa.Column('master_addresses', sa.Text),
        sa.Column('stack_id', sa.String(255)),
        sa.Column('reservation', sa.String(255)),
        sa.UniqueConstraint('uuid', name='uniq_bay0uuid'),
        sa.ForeignKeyConstraint(['baymodel_id'], ['baymodel.uuid'],
                                name='bay_baymodel_fk', ondelete='RESTRICT'),
        **_MYSQL)
    op.create_index('bay_project_id_idx', 'bay', ['project_id'])
    op.create_index('bay_name_idx', 'bay', ['name'])
    op.create_index('bay_status_idx', 'bay', ['status'])
    op.create_index('bay_baymodel_id_idx', 'bay', ['baymodel_id'])

    op.create_table(
        'magnum_service',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('last_seen_up', sa.DateTime),
        sa.Column('forced_down', sa.Boolean, nullable=False),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_magnum_service0host0binary'),
        **_MYSQL)


def downgrade():
    op.drop_table('bay')
    op.drop_table('magnum_service')
    op.drop_table('baymodel')
