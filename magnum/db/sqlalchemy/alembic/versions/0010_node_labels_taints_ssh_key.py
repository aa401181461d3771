"""Node groups' node labels and taints, a BayModel's SSH authorized key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

API 1.14: a node group's ``node_labels`` ({key: value}) and
``node_taints`` ([{key, value, effect}]) are what its nodes register with
(Heat's boot scripts, Cluster API's MachineDeployment). A BayModel's
``ssh_authorized_key`` (python-magnumclient 1.1.0 sends it) is put on its
Heat bays' servers. All NULL on rows of before: no labels, no taints, no
key.
"""

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nodegroup') as batch:
        batch.add_column(sa.Column('node_labels', sa.Text))
        batch.add_column(sa.Column('node_taints', sa.Text))
    with op.batch_alter_table('baymodel') as batch:
        batch.add_column(sa.Column('ssh_authorized_key', sa.Text))


def downgrade():
    with op.batch_alter_table('baymodel') as batch:
        batch.drop_column('ssh_authorized_key')
    with op.batch_alter_table('nodegroup') as batch:
        batch.drop_column('node_taints')
        batch.drop_column('node_labels')
