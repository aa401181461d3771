"""When a conductor handed a bay's current action to its provisioner.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``bay.driven_at`` is NULL from the moment the API writes a new
``*_IN_PROGRESS`` status until a conductor has given that action to the
provisioner. A provisioner's finished answer for the same kind of action
(a stack still UPDATE_COMPLETE from the update before) then says nothing
about this one. Rows of before are NULL: a bay in the middle of an update
has it redone once, which is harmless (an update sends the whole desired
state).
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bay') as batch:
        batch.add_column(sa.Column('driven_at', sa.DateTime))


def downgrade():
    with op.batch_alter_table('bay') as batch:
        batch.drop_column('driven_at')
