"""``/v1/bays``: clusters. Changes are written first, then cast.

``/v1/clusters`` (cluster.py) is the same implementation, BayRowsController,
under the cluster era's names: as ``/v1/clustertemplates`` is
``/v1/baymodels``'s.
"""

import functools

import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import action as action_api
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.lifecycle import actions
from magnum.lifecycle import clusters
from magnum.lifecycle import idempotency
from magnum.objects import bay as bay_obj

NAME = types.NameType(
    pattern=r'^[a-zA-Z][a-zA-Z0-9_.-]*$',
    hint='a bay name starts with a letter and has only letters, digits, '
         '"_", "." and "-"')


class BayFields(wtypes.Base):
    """The fields a client may set, each with its rules."""

    name = NAME
    baymodel_id = wtypes.wsattr(types.string(), mandatory=True)
    node_count = types.integer(minimum=1, maximum=100000)
    master_count = types.integer(minimum=1, maximum=100)
    bay_create_timeout = types.integer(minimum=0, maximum=525600)
    discovery_url = types.URLType()


# Only the node count changes after create, by PATCH: it scales the bay
# (a cluster's resize changes it too).
WRITABLE = ('node_count',)

VIEW = collection.View(
    'bays',
    short_fields=('uuid', 'name', 'baymodel_id', 'node_count',
                  'master_count', 'status', 'bay_create_timeout'),
    detail_fields=('uuid', 'name', 'project_id', 'user_id', 'baymodel_id',
                   'node_count', 'master_count', 'bay_create_timeout',
                   'discovery_url', 'status', 'status_reason',
                   'api_address', 'node_addresses', 'master_addresses',
                   'stack_id', 'created_at', 'updated_at'))
SORT_KEYS = ('id', 'uuid', 'name', 'project_id', 'user_id', 'baymodel_id',
             'node_count', 'master_count', 'bay_create_timeout', 'status',
             'api_address', 'created_at', 'updated_at')


class BayRowsController(collection.ListedCollectionController):
    """What ``/v1/bays`` and ``/v1/clusters`` (cluster.py) share: the same
    rows, listed, shown, created, changed and deleted the same way.

    A subclass names its era: ``POLICY`` (its rules' prefix), ``VIEW`` and
    ``SORT_KEYS``, ``RENAMES`` ({name it shows: column}), ``FIELDS``
    (what a create takes), ``BUSY_FIRST`` (whether an update of a busy
    bay is refused before its provisioner is asked) and
    ``TEMPLATE_LABELS`` (whether a full view reads each bay's template's
    labels with it); and says how it differs through the hooks
    ``_change_query`` and ``_answer`` (and ``_render``).
    """

    POLICY = None
    VIEW = None
    SORT_KEYS = ()
    RENAMES = {}
    FIELDS = None
    BUSY_FIRST = False
    TEMPLATE_LABELS = False

    def __init__(self):
        # ``<ident>/actions``: what was done to the bay (action.py).
        self.recorded_actions = action_api.Actions(self.POLICY,
                                                   self.VIEW.collection)

    def _rule(self, name):
        return '%s:%s' % (self.POLICY, name)

    # -- hooks ---------------------------------------------------------------

    def _render(self, row, detail=True, base=None, pick=None):
        """A row as shown (its full view: read with ``template_labels``
        where ``TEMPLATE_LABELS``; ``pick``: see View.render_page)."""
        return self.VIEW.render(row, detail, base, pick)

    def _change_query(self, rollback):
        """A change's query string: returns ``?rollback=`` (False where
        ``rollback`` does not allow it)."""
        raise NotImplementedError

    def _check_create(self, values):
        """Refuse what this era's create may not ask (parsed ``values``).
        """

    def _answer(self, context, bay, action, status):
        """Cast ``action`` (None: nothing to cast) and answer a create
        (``status`` 201) or a change (202) of ``bay``."""
        raise NotImplementedError

    # -- the handlers --------------------------------------------------------

    def _list(self, detail, params):
        context = pecan.request.context
        policy.authorize(context, self._rule('get_all'))
        if context.all_projects:
            policy.authorize(context, self._rule('get_all_all_projects'))
        if isinstance(params.get('sort_key'), str) and (
                params['sort_key'] in self.RENAMES):
            params = dict(params, sort_key=self.RENAMES[params['sort_key']])
        query = collection.query(params, self.SORT_KEYS)
        records = functools.partial(
            bay_obj.Bay.records,
            template_labels=detail and self.TEMPLATE_LABELS)
        rows, more = collection.fetch(records, context, query)
        return self.VIEW.render_page(rows, more, query, detail, self._render)

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        record = functools.partial(bay_obj.Bay.record,
                                   template_labels=self.TEMPLATE_LABELS)
        row = access.fetch_authorized(context, record, ident,
                                      self._rule('get'))
        return self._render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, self._rule('create'))
        request = pecan.request
        key = idempotency.parse(request.headers.get(idempotency.HEADER),
                                request.path, request.body)
        earlier = idempotency.earlier_bay(context, key)
        if earlier is not None:
            return self._again(context, key, earlier)
        values = types.parse(self.FIELDS, types.json_body())
        self._check_create(values)
        merge_labels = values.pop('merge_labels', None)
        for name, column in self.RENAMES.items():
            if name in values:
                values[column] = values.pop(name)
        try:
            bay, action = clusters.create(context, values, merge_labels, key)
        except exception.InvalidParameterValue as e:
            # A refusal names the field as this era calls it.
            names = {column: name for name, column in self.RENAMES.items()}
            if e.kwargs.get('field') in names:
                raise exception.InvalidParameterValue(
                    field=names[e.kwargs['field']],
                    reason=e.kwargs['reason'])
            raise
        except exception.IdempotencyKeyTaken:
            # NOTE: a create with the same key committed first; nothing of
            # this one was written.
            return self._again(context, key,
                               idempotency.earlier_bay(context, key))
        return self._answer(context, bay, action, 201)

    def _again(self, context, key, uuid):
        """The answer of the create that made bay ``uuid`` with ``key``,
        given again (nothing is cast: that create's action runs)."""
        try:
            bay = bay_obj.Bay.get(context, uuid)
        except exception.BayNotFound:
            raise exception.IdempotencyKeyGone(key=key.key, bay=uuid)
        return self._answer(context, bay, None, 201)

    def _changing(self, ident, rule, rollback=False):
        """What every change starts with: its query string (see
        ``_change_query``), then the bay, fetched and authorized. Returns
        (context, bay, rollback)."""
        rollback = self._change_query(rollback)
        context = pecan.request.context
        bay = access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                      self._rule(rule))
        return context, bay, rollback

    @pecan.expose('json')
    def patch(self, ident, **params):
        patch = json_patch.check(types.json_body(), WRITABLE)
        context, bay, rollback = self._changing(ident, 'update',
                                                rollback=True)
        before = {name: bay[name] for name in WRITABLE}
        after = json_patch.apply(before, patch, WRITABLE)
        changes = types.parse(BayFields, json_patch.changed(before, after),
                              partial=True)
        if changes.get('node_count', 0) is None:
            raise exception.InvalidParameterValue(
                field='node_count', reason='the field is required')
        # NOTE: one transaction: a bay that is locked, or whose status
        # changed since we read it, is a 409 and stays as it was.
        action = clusters.update(context, bay, changes, rollback,
                                 busy_first=self.BUSY_FIRST)
        return self._answer(context, bay, action, 202)

    @pecan.expose(content_type='application/json')
    def delete(self, ident, **params):
        context, bay, _ = self._changing(ident, 'delete')
        # NOTE: a bay already being deleted keeps its delete, cast again
        # (its message may have been lost).
        action = actions.delete(context, bay)
        if action is not None:
            pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 204
        return ''

    def _route_extra(self, args, request):
        if args[1] == 'actions' and len(args) <= 3:
            return self.recorded_actions.route(args[0], args[2:], request)
        return super()._route_extra(args, request)


class BaysController(BayRowsController):

    POLICY = 'bay'
    VIEW = VIEW
    SORT_KEYS = SORT_KEYS
    FIELDS = BayFields
    # NOTE: a busy bay is refused before its provisioner is asked whether
    # it can update at all (a 409 before a 400).
    BUSY_FIRST = True

    def _change_query(self, rollback):
        # NOTE: the bay era reads no query string on a change: what a
        # client sends there is ignored, as it always was.
        return False

    def _answer(self, context, bay, action, status):
        """The bay as it is now, rendered."""
        # NOTE: read back before the cast: a fast conductor may finish first.
        body = self.VIEW.render(bay_obj.Bay.record(context, bay.uuid))
        if action is not None:
            pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = status
        return body

    # -- /v1/bays/<ident>/config (magnum/api/controllers/v1/certificate.py)

    def _route_extra(self, args, request):
        if len(args) == 2 and args[1] == 'config':
            if request.method not in ('GET', 'HEAD'):
                return self._handler({'GET': 'config'}, request), args[:1]
            return self.config, args[:1]
        return super()._route_extra(args, request)

    @pecan.expose('json')
    def config(self, ident, **params):
        from magnum.api.controllers.v1 import certificate
        return certificate.bay_config(ident)
