"""``/v1/nodes``: the servers of the bays, as their provisioners report them.

Rows come from the provisioner (the heat provisioner records every server of
a bay's stack). ``POST`` registers a node by hand, the one node call of
python-magnumclient 1.1.0 (``name``, ``type`` and ``image_id``); such a
node belongs to no bay.
"""

import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import types
from magnum.common import policy
from magnum.objects import node as node_obj


class NodeFields(wtypes.Base):
    """The fields a client may set, each with its rules."""

    name = types.NameType(
        pattern=r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        hint='a node name has only letters, digits, "_", "." and "-"')
    type = types.string(max_length=32)
    image_id = types.string(max_length=255)
    ironic_node_id = types.string(max_length=36)


VIEW = collection.View(
    'nodes',
    short_fields=('uuid', 'name', 'type', 'image_id', 'ironic_node_id',
                  'bay_uuid'),
    detail_fields=('uuid', 'name', 'type', 'image_id', 'ironic_node_id',
                   'bay_uuid', 'server_id', 'addresses', 'nodegroup',
                   'project_id', 'user_id', 'created_at', 'updated_at'))
SORT_KEYS = ('id', 'uuid', 'name', 'type', 'image_id', 'bay_uuid',
             'created_at', 'updated_at')


class NodesController(collection.ListedCollectionController):

    def _list(self, detail, params):
        context = pecan.request.context
        policy.authorize(context, 'node:get_all')
        query = collection.query(params, SORT_KEYS)
        rows, more = collection.fetch(node_obj.Node.records, context, query)
        return VIEW.render_page(rows, more, query, detail)

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        row = access.fetch_authorized(context, node_obj.Node.record, ident,
                                      'node:get')
        return VIEW.render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, 'node:create')
        values = types.parse(NodeFields, types.json_body())
        row = node_obj.Node.create(context, {k: v for k, v in values.items()
                                             if v is not None})
        pecan.response.status = 201
        return VIEW.render(row)
