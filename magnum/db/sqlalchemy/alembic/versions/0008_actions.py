"""Actions: every change to a bay is a row of its own.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

What the user asked used to live in fields of the bay and node-group rows:
``bay.rollback`` (the fields to restore, as strings), ``bay.driven_at``
(whether a conductor had handed the change to the provisioner) and
``nodegroup.nodes_to_remove``. Each bay in progress now gets the action it
is in the middle of, with those values as its typed ``params``, and the
three columns go.

The kind of an update of before is read from what it left in the rows:
a rollback dict or a node group in progress says resize, upgrade or node
group create; anything else is an ``update`` (the heat provisioner sends
the whole desired state for each, so a redo of it is the same request).
A downgrade brings the columns back empty: a change in progress then is
redone as an update, as 0007 already did for the rows before it.
"""

import json

from alembic import op
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_MYSQL = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
_OPERATION = {'CREATE_IN_PROGRESS': 'create',
              'UPDATE_IN_PROGRESS': 'update',
              'DELETE_IN_PROGRESS': 'delete'}
_INTEGERS = ('node_count', 'master_count')


def _update_of(bay, rollback, groups):
    """(kind, params) of an update of before, from its rows."""
    params = {}
    if rollback is not None:
        params['rollback'] = True
    removing = [g for g in groups if g.nodes_to_remove]
    if removing:
        params['nodegroup'] = removing[0].uuid
        params['nodes_to_remove'] = json.loads(removing[0].nodes_to_remove)
    rollback = dict(rollback or {})
    group = rollback.pop('nodegroup', None)
    restore = {}
    if group and 'nodegroup_count' in rollback:
        params['nodegroup'] = group
        restore['nodegroup'] = {'uuid': group, 'node_count': int(
            rollback['nodegroup_count'])}
        kind = 'resize'
    elif group and 'nodegroup_image' in rollback:
        params['nodegroup'] = group
        restore['nodegroup'] = {'uuid': group,
                                'image_id': rollback['nodegroup_image']}
        kind = 'upgrade'
    elif 'baymodel_id' in rollback:
        params['cluster_template'] = bay.baymodel_id
        restore['bay'] = {k: v for k, v in rollback.items()}
        kind = 'upgrade'
    elif 'node_count' in rollback or removing:
        kind = 'resize'
        if 'node_count' in rollback:
            restore['bay'] = {'node_count': int(rollback['node_count'])}
    else:
        created = [g for g in groups if not g.is_default
                   and g.status == 'CREATE_IN_PROGRESS']
        changed = [g for g in groups if not g.is_default
                   and g.status == 'UPDATE_IN_PROGRESS']
        if created:
            kind = 'nodegroup_create'
            params['nodegroup'] = created[0].uuid
        elif changed:
            kind = 'nodegroup_update'
            params['nodegroup'] = changed[0].uuid
        else:
            kind = 'update'
    for values in restore.values():
        for name in _INTEGERS:
            if values.get(name) is not None:
                values[name] = int(values[name])
    if restore:
        params['restore'] = restore
    return kind, params


def upgrade():
    op.create_table(
        'action',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('bay_uuid', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('params', sa.Text),
        sa.Column('request_id', sa.String(255)),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255)),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('status_reason', sa.Text),
        sa.Column('conductor', sa.String(255)),
        sa.Column('started_at', sa.DateTime),
        sa.Column('finished_at', sa.DateTime),
        sa.UniqueConstraint('uuid', name='uniq_action0uuid'),
        sa.ForeignKeyConstraint(['bay_uuid'], ['bay.uuid'],
                                name='action_bay_fk', ondelete='CASCADE'),
        **_MYSQL)
    op.create_index('action_bay_uuid_idx', 'action', ['bay_uuid'])
    op.create_index('action_status_idx', 'action', ['status'])

    bay = sa.table('bay', sa.column('uuid'), sa.column('project_id'),
                   sa.column('user_id'), sa.column('status'),
                   sa.column('baymodel_id'), sa.column('rollback'),
                   sa.column('driven_at'), sa.column('updated_at'),
                   sa.column('created_at'))
    nodegroup = sa.table('nodegroup', sa.column('uuid'),
                         sa.column('cluster_id'), sa.column('is_default'),
                         sa.column('status'), sa.column('nodes_to_remove'))
    action = sa.table('action', *(sa.column(name) for name in (
        'uuid', 'bay_uuid', 'kind', 'params', 'project_id', 'user_id',
        'status', 'started_at', 'created_at')))
    connection = op.get_bind()
    now = timeutils.utcnow()
    rows = []
    for row in connection.execute(sa.select(bay).where(
            bay.c.status.in_(list(_OPERATION)))):
        kind, params = _OPERATION[row.status], {}
        if kind == 'update':
            groups = connection.execute(sa.select(nodegroup).where(
                nodegroup.c.cluster_id == row.uuid)).all()
            rollback = json.loads(row.rollback) if row.rollback else None
            kind, params = _update_of(row, rollback, groups)
        rows.append({
            'uuid': uuidutils.generate_uuid(), 'bay_uuid': row.uuid,
            'kind': kind, 'params': json.dumps(params),
            'project_id': row.project_id, 'user_id': row.user_id,
            'status': 'IN_PROGRESS' if row.driven_at else 'PENDING',
            'started_at': row.driven_at,
            'created_at': row.updated_at or row.created_at or now})
    if rows:
        op.bulk_insert(action, rows)

    with op.batch_alter_table('bay') as batch:
        batch.drop_column('rollback')
        batch.drop_column('driven_at')
    with op.batch_alter_table('nodegroup') as batch:
        batch.drop_column('nodes_to_remove')


def downgrade():
    with op.batch_alter_table('nodegroup') as batch:
        batch.add_column(sa.Column('nodes_to_remove', sa.Text))
    with op.batch_alter_table('bay') as batch:
        batch.add_column(sa.Column('rollback', sa.Text))
        batch.add_column(sa.Column('driven_at', sa.DateTime))
    # NOTE: its indexes go with it (MariaDB keeps the bay_uuid one for the
    # foreign key as long as the table stands).
    op.drop_table('action')
