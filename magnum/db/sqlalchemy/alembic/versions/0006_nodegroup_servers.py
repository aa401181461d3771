"""Node groups reach the Heat stack: which group a node is in, and the
servers a resize removes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``node.nodegroup`` is the name of the node group whose resource group made
the server (NULL for nodes registered by hand and for rows of before, which
the next poll of their bay fills in). ``nodegroup.nodes_to_remove`` holds
the server ids a resize with ``nodes_to_remove`` asked to remove, from the
API until the cluster's update ends.
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('node') as batch:
        batch.add_column(sa.Column('nodegroup', sa.String(255)))
    with op.batch_alter_table('nodegroup') as batch:
        batch.add_column(sa.Column('nodes_to_remove', sa.Text))


def downgrade():
    with op.batch_alter_table('nodegroup') as batch:
        batch.drop_column('nodes_to_remove')
    with op.batch_alter_table('node') as batch:
        batch.drop_column('nodegroup')
