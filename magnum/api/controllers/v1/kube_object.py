"""What ``/v1/pods``, ``/v1/services`` and ``/v1/rcs`` share.

The objects live in the bay's Kubernetes, not in Magnum's database: every
call finds the bay (in the caller's scope), checks the policy against the
bay's project, and asks the conductor, which asks Kubernetes (the API
never does). An object is addressed by name or by Kubernetes uid, with its
bay given either way the clients do::

    /v1/pods/<ident>?bay_ident=<bay>        /v1/pods/<ident>/<bay>

Input is ``manifest`` (JSON or YAML text) or ``manifest_url``; the
conductor parses or fetches it and checks its kind (see
magnum/conductor/manifest.py).
"""

from oslo_config import cfg
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.objects import bay as bay_obj


class KubeObjectFields(wtypes.Base):
    """What a create takes. ``bay_uuid`` may be a bay's UUID or name."""

    bay_uuid = wtypes.wsattr(types.string(), mandatory=True)
    manifest = wtypes.text
    manifest_url = types.URLType()


SORT_KEYS = ('id', 'uuid', 'name', 'created_at')


class KubeObjectController(collection.ListedCollectionController):
    """One kind's collection; subclasses set the class attributes."""

    resource = None          # 'pod': the conductor's kind and policy prefix
    collection_name = None   # 'pods'
    short_fields = ()        # what a list shows; detail and items show all

    # -- routing: /<ident>/<bay_ident> -------------------------------------

    def _route_extra(self, args, request):
        if len(args) == 2:
            return self._handler(self._ITEM_METHODS, request), args
        return super()._route_extra(args, request)

    # -- helpers -------------------------------------------------------------

    def _bay(self, ident, action):
        """The bay named in the request, and the policy check on it."""
        context = pecan.request.context
        if not ident:
            raise exception.InvalidParameterValue(
                field='bay_ident', reason='the bay is required: %s live in '
                'a bay' % self.collection_name)
        return access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                       '%s:%s' % (self.resource, action))

    @staticmethod
    def _bay_ident(rest, params):
        """The bay from the path (/<ident>/<bay>) or ``?bay_ident=``."""
        extra = sorted(set(params) - {'bay_ident'})
        if extra:
            raise exception.InvalidParameterValue(
                field=extra[0], reason='unknown query parameter')
        if isinstance(params.get('bay_ident'), list):
            raise exception.InvalidParameterValue(
                field='bay_ident', reason='the parameter is given more than '
                                          'once')
        if rest and params.get('bay_ident') and rest[0] != params[
                'bay_ident']:
            raise exception.InvalidParameterValue(
                field='bay_ident', reason='the path and the query name '
                                          'different bays')
        return rest[0] if rest else params.get('bay_ident')

    def _render(self, obj, fields=None):
        body = {k: v for k, v in obj.items() if fields is None or k in fields}
        body['links'] = collection.links(
            self.collection_name, '%s/%s' % (obj['uuid'], obj['bay_uuid']))
        return body

    def _rpc(self):
        return pecan.request.rpcapi

    # -- list --------------------------------------------------------------

    def _list(self, detail, params):
        context = pecan.request.context
        query = collection.query(params, SORT_KEYS, extra=('bay_ident',))
        bay = self._bay(params.get('bay_ident'), 'get_all')
        objects = self._rpc().kube_object_list(context, self.resource,
                                               bay.uuid)
        key = 'name' if query['sort_key'] == 'id' else query['sort_key']
        objects.sort(key=lambda o: (o.get(key) is None, o.get(key) or ''),
                     reverse=query['sort_dir'] == 'desc')
        if query['marker'] is not None:
            uuids = [o['uuid'] for o in objects]
            if query['marker'] not in uuids:
                raise exception.InvalidParameterValue(
                    field='marker', reason='no %s of bay %s has UUID %s'
                    % (self.resource, bay.uuid, query['marker']))
            objects = objects[uuids.index(query['marker']) + 1:]
        page = objects[:query['limit']]
        fields = None if detail else self.short_fields
        body = {self.collection_name: [self._render(o, fields)
                                       for o in page]}
        if len(objects) > len(page) and page:
            body['next'] = collection.next_link(query, page[-1]['uuid'])
        return body

    # -- items -------------------------------------------------------------

    @pecan.expose('json')
    def get_one(self, ident, *rest, **params):
        bay = self._bay(self._bay_ident(rest, params), 'get')
        return self._render(self._rpc().kube_object_show(
            pecan.request.context, self.resource, bay.uuid, ident))

    @pecan.expose('json')
    def post(self, **params):
        # NOTE: pecan hands the JSON body's keys in too; only the query
        # string counts here.
        collection.refuse_query(dict(pecan.request.GET))
        values = types.parse(KubeObjectFields, types.json_body())
        manifest, url = values.get('manifest'), values.get('manifest_url')
        if bool(manifest) == bool(url):
            raise exception.InvalidParameterValue(
                field='manifest', reason='give either manifest (JSON or YAML '
                'text) or manifest_url, not both or neither')
        limit = cfg.CONF.kubernetes.manifest_max_bytes
        if manifest and len(manifest.encode('utf-8')) > limit:
            raise exception.InvalidParameterValue(
                field='manifest', reason='the manifest is larger than %d '
                                         'bytes' % limit)
        bay = self._bay(values['bay_uuid'], 'create')
        obj = self._rpc().kube_object_create(
            pecan.request.context, self.resource, bay.uuid,
            manifest=manifest or None, manifest_url=url or None)
        pecan.response.status = 201
        return self._render(obj)

    @pecan.expose('json')
    def patch(self, ident, *rest, **params):
        bay = self._bay(self._bay_ident(rest, params), 'update')
        obj = self._rpc().kube_object_update(
            pecan.request.context, self.resource, bay.uuid, ident,
            types.json_body())
        return self._render(obj)

    @pecan.expose(content_type='application/json')
    def delete(self, ident, *rest, **params):
        bay = self._bay(self._bay_ident(rest, params), 'delete')
        self._rpc().kube_object_delete(pecan.request.context, self.resource,
                                       bay.uuid, ident)
        pecan.response.status = 204
        return ''
