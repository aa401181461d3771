"""Database API of nodes: the servers of a bay, as its provisioner last
reported them.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

BAY = api.BAY
NODE = api.NODE


def get_node(context, ident):
    return api.get_one(context, NODE, ident,
                       lambda: exception.NodeNotFound(node=ident), 'nodes')


def list_nodes(context, limit=None, marker=None, sort_key='id',
               sort_dir='asc'):
    return api.list_page(context, NODE, 'node', limit, marker, sort_key,
                         sort_dir)


def create_node(context, values):
    values = api.new_row_values(context, values)
    return api.insert_returning(
        NODE, values,
        reference=lambda: exception.BayNotFound(bay=values.get('bay_uuid')))


def bay_nodes(bay_uuid):
    """Every Node row of a bay (the caller checked the bay is in scope)."""
    with api.reader() as session:
        return session.execute(sa.select(NODE).where(
            NODE.c.bay_uuid == bay_uuid).order_by(NODE.c.id)).all()


def replace_bay_nodes(bay_uuid, nodes):
    """Make the bay's Node rows the servers in ``nodes`` (dicts with
    server_id, name, type, image_id, addresses, nodegroup), in one
    transaction: rows of
    servers that are gone are removed, known ones updated, new ones added,
    each keeping its uuid while its server lives.
    """
    now = timeutils.utcnow()
    with api.writer() as session:
        bay = session.execute(sa.select(BAY.c.project_id, BAY.c.user_id).where(
            BAY.c.uuid == bay_uuid)).first()
        if bay is None:
            raise exception.BayNotFound(bay=bay_uuid)
        known = {row.server_id: row.uuid for row in session.execute(
            sa.select(NODE.c.uuid, NODE.c.server_id).where(
                NODE.c.bay_uuid == bay_uuid))}
        wanted = {node['server_id']: node for node in nodes}
        gone = [uuid for server, uuid in known.items()
                if server not in wanted]
        if gone:
            session.execute(sa.delete(NODE).where(NODE.c.uuid.in_(gone)))
        for server, node in wanted.items():
            values = {k: node.get(k) for k in
                      ('name', 'type', 'image_id', 'addresses',
                       'nodegroup')}
            if server in known:
                session.execute(sa.update(NODE).where(
                    NODE.c.uuid == known[server]).values(updated_at=now,
                                                         **values))
            else:
                session.execute(sa.insert(NODE).values(
                    uuid=uuidutils.generate_uuid(), bay_uuid=bay_uuid,
                    server_id=server, project_id=bay.project_id,
                    user_id=bay.user_id, created_at=now, **values))
