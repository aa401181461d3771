"""The cluster era: bay columns of the later API, node groups and quotas.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

A Cluster is a Bay and a ClusterTemplate a BayModel (one table each); the
later API adds per-cluster overrides of the template (keypair, flavors,
labels...), health and versions. Every bay gets its ``default-master`` and
``default-worker`` node groups; quotas hold per-project hard limits.
"""

from alembic import op
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}

_BAY_COLUMNS = (
    ('keypair', sa.String(255)),
    ('docker_volume_size', sa.Integer),
    ('labels', sa.Text),
    ('master_flavor_id', sa.String(255)),
    ('flavor_id', sa.String(255)),
    ('fixed_network', sa.String(255)),
    ('fixed_subnet', sa.String(255)),
    ('floating_ip_enabled', sa.Boolean),
    ('master_lb_enabled', sa.Boolean),
    ('health_status', sa.String(20)),
    ('health_status_reason', sa.Text),
    ('coe_version', sa.String(255)),
    ('container_version', sa.String(255)),
    ('rollback', sa.Text),
)


def upgrade():
    with op.batch_alter_table('baymodel') as batch:
        batch.add_column(sa.Column('driver', sa.String(255)))
    with op.batch_alter_table('bay') as batch:
        for name, kind in _BAY_COLUMNS:
            batch.add_column(sa.Column(name, kind))

    nodegroup = op.create_table(
        'nodegroup',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('cluster_id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('role', sa.String(255), nullable=False),
        sa.Column('is_default', sa.Boolean, nullable=False),
        sa.Column('node_count', sa.Integer, nullable=False),
        sa.Column('min_node_count', sa.Integer, nullable=False),
        sa.Column('max_node_count', sa.Integer),
        sa.Column('flavor_id', sa.String(255)),
        sa.Column('image_id', sa.String(255)),
        sa.Column('docker_volume_size', sa.Integer),
        sa.Column('labels', sa.Text),
        sa.Column('node_addresses', sa.Text),
        sa.Column('status', sa.String(20)),
        sa.Column('status_reason', sa.Text),
        sa.UniqueConstraint('uuid', name='uniq_nodegroup0uuid'),
        sa.UniqueConstraint('cluster_id', 'name',
                            name='uniq_nodegroup0cluster_id0name'),
        sa.ForeignKeyConstraint(['cluster_id'], ['bay.uuid'],
                                name='nodegroup_bay_fk', ondelete='CASCADE'),
        **_MYSQL)
    op.create_index('nodegroup_project_id_idx', 'nodegroup', ['project_id'])

    op.create_table(
        'quota',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('resource', sa.String(255), nullable=False),
        sa.Column('hard_limit', sa.Integer),
        sa.UniqueConstraint('project_id', 'resource',
                            name='uniq_quota0project_id0resource'),
        **_MYSQL)

    # The bays of before get their two default node groups.
    bay = sa.table('bay', sa.column('uuid'), sa.column('project_id'),
                   sa.column('user_id'), sa.column('node_count'),
                   sa.column('master_count'), sa.column('status'))
    connection = op.get_bind()
    now = timeutils.utcnow()
    rows = []
    for row in connection.execute(sa.select(bay)):
        for role, name, count in (('master', 'default-master',
                                   row.master_count),
                                  ('worker', 'default-worker',
                                   row.node_count)):
            rows.append({
                'uuid': uuidutils.generate_uuid(), 'name': name,
                'cluster_id': row.uuid, 'project_id': row.project_id,
                'user_id': row.user_id, 'role': role, 'is_default': True,
                'node_count': count or 1, 'min_node_count': 1,
                'status': row.status, 'created_at': now})
    if rows:
        op.bulk_insert(nodegroup, rows)


def downgrade():
    op.drop_table('quota')
    op.drop_table('nodegroup')
    with op.batch_alter_table('bay') as batch:
        for name, _ in reversed(_BAY_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table('baymodel') as batch:
        batch.drop_column('driver')
