"""``/v1/clusters/<ident>/actions`` and ``/v1/bays/<ident>/actions``:
what was done to a cluster, by whom, and how it ended.

Each change to a cluster is an action (magnum/objects/action.py); its
list is newest first, paginated like every collection (``limit``,
``marker``: the uuid of the last action of the page before), in the
cluster's project scope; ``GET .../actions/<uuid>`` shows one. The two
paths differ only in their policy rules (``bay:action:*`` and
``cluster:action:*``) and the collection named in links.
"""

import pecan

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj

_FIELDS = ('uuid', 'kind', 'status', 'status_reason', 'params',
           'request_id', 'project_id', 'user_id', 'created_at',
           'started_at', 'finished_at', 'updated_at')
_TIMES = ('created_at', 'started_at', 'finished_at', 'updated_at')


class Actions:
    """The actions of one kind of path: ``resource`` is 'bay' or
    'cluster' (the policy prefix), ``collection`` 'bays' or 'clusters'."""

    def __init__(self, resource, collection_name):
        self.resource = resource
        self.collection = collection_name

    def route(self, bay_ident, rest, request):
        """(handler, args) for ``<ident>/actions[/<uuid>]``."""
        if request.method not in ('GET', 'HEAD'):
            collection.read_only()
        if not rest:
            return self.get_all, [bay_ident]
        return self.get_one, [bay_ident, rest[0]]

    def _bay(self, ident, rule):
        context = pecan.request.context
        bay = access.fetch_authorized(
            context, bay_obj.Bay.record, ident,
            '%s:action:%s' % (self.resource, rule))
        return context, bay

    def render(self, row, bay_uuid, context):
        body = {name: row._mapping[name] for name in _FIELDS}
        for name in _TIMES:
            body[name] = collection.timestamp(body[name])
        body['params'] = body['params'] or {}
        if context.is_admin:
            # NOTE: which conductor ran it is the operator's business.
            body['conductor'] = row.conductor
        body['links'] = collection.links(
            '%s/%s/actions' % (self.collection, bay_uuid), row.uuid)
        return body

    @pecan.expose('json')
    def get_all(self, bay_ident, **params):
        context, bay = self._bay(bay_ident, 'get_all')
        sort_dir = params.pop('sort_dir', None) or 'desc'
        query = collection.query(dict(params, sort_dir=sort_dir), ('id',))
        rows, more = collection.fetch(
            lambda _context, sort_key, **page: action_obj.Action.records(
                bay.uuid, **page), context, query)
        return collection.page(
            'actions', [self.render(row, bay.uuid, context) for row in rows],
            rows, more, query)

    @pecan.expose('json')
    def get_one(self, bay_ident, uuid, **params):
        collection.refuse_query(params)
        context, bay = self._bay(bay_ident, 'get')
        row = action_obj.Action.record(bay.uuid, uuid)
        return self.render(row, bay.uuid, context)
