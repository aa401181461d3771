"""``/v1/quotas``: per-project hard limits (the resource is ``Cluster``).

A project without a quota of its own has the configured default
(``[quotas] max_clusters_per_project``); showing it answers that default,
so a dashboard can always draw it. The limit is enforced in the database
transaction that inserts a cluster (magnum.db.bays.create_bay).
"""

from oslo_config import cfg
import pecan
import webob.exc
from wsme import types as wtypes

from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.objects import nodegroup as nodegroup_obj

Quota = nodegroup_obj.Quota
SORT_KEYS = ('id', 'project_id', 'resource', 'hard_limit', 'created_at',
             'updated_at')
_FIELDS = ('id', 'project_id', 'resource', 'hard_limit', 'created_at',
           'updated_at')


class QuotaFields(wtypes.Base):
    project_id = wtypes.wsattr(types.string(), mandatory=True)
    resource = wtypes.wsattr(types.string(), mandatory=True)
    hard_limit = wtypes.wsattr(types.integer(minimum=0), mandatory=True)


def _render(row):
    body = {name: row._mapping[name] for name in _FIELDS}
    for name in ('created_at', 'updated_at'):
        body[name] = collection.timestamp(body[name])
    return body


def _default(project_id, resource):
    return {'id': None, 'project_id': project_id, 'resource': resource,
            'hard_limit': cfg.CONF.quotas.max_clusters_per_project,
            'created_at': None, 'updated_at': None}


def _check_resource(resource, field='resource'):
    if resource not in Quota.RESOURCES:
        raise exception.InvalidParameterValue(
            field=field, reason='%r is not one of %s'
            % (resource, ', '.join(Quota.RESOURCES)))


def _parse(body, partial=False):
    values = types.parse(QuotaFields, body, partial=partial)
    if values.get('project_id') is not None:
        if not values['project_id'].strip():
            raise exception.InvalidParameterValue(
                field='project_id', reason='it must not be empty')
    if values.get('resource') is not None:
        _check_resource(values['resource'])
    for name in ('project_id', 'resource', 'hard_limit'):
        if name in values and values[name] is None:
            raise exception.InvalidParameterValue(
                field=name, reason='the field is required')
    return values


class QuotasController(collection.Router):
    """An item is ``<project_id>/<resource>``: two parts, no detail list."""

    @pecan.expose()
    def _route(self, args, request):
        args = [arg for arg in args if arg != '']
        if not args:
            methods = self._COLLECTION_METHODS
        elif len(args) == 2:
            methods = self._ITEM_METHODS
        else:
            raise webob.exc.HTTPNotFound(
                detail='No resource at %s; quotas are at '
                       '/v1/quotas/<project_id>/<resource>' % request.path)
        return self._handler(methods, request), args

    @pecan.expose('json')
    def get_all(self, **params):
        context = pecan.request.context
        policy.authorize(context, 'quota:get_all')
        # NOTE: all_tenants from a non-admin lists its own project's, as
        # the dashboard asks for all_tenants whoever is logged in.
        all_projects = context.all_projects and policy.check(
            context, 'quota:get_all_all_projects')
        query = collection.query(params, SORT_KEYS, marker_is_uuid=False)
        rows, more = collection.fetch(
            lambda context, **page: Quota.records(
                context, all_projects=all_projects, **page), context, query)
        return collection.page('quotas', [_render(row) for row in rows],
                               rows, more, query, key='id')

    @pecan.expose('json')
    def get_one(self, project_id, resource, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        policy.authorize(context, 'quota:get', {'project_id': project_id})
        _check_resource(resource)
        row = Quota.record(project_id, resource)
        return _default(project_id, resource) if row is None else (
            _render(row))

    @pecan.expose('json')
    def post(self, **params):
        collection.change_query()
        context = pecan.request.context
        policy.authorize(context, 'quota:create')
        values = _parse(types.json_body())
        row = Quota.create(values['project_id'], values['resource'],
                           values['hard_limit'])
        pecan.response.status = 201
        return _render(row)

    @pecan.expose('json')
    def patch(self, project_id, resource, **params):
        collection.change_query()
        context = pecan.request.context
        policy.authorize(context, 'quota:update')
        _check_resource(resource)
        body = types.json_body()
        if isinstance(body, list):
            raise exception.Invalid(
                reason='a quota is changed with a plain JSON object '
                       '({"hard_limit": N}), not a JSON-patch list')
        values = _parse(body, partial=True)
        for name, value in (('project_id', project_id),
                            ('resource', resource)):
            if values.get(name, value) != value:
                raise exception.InvalidParameterValue(
                    field=name, reason='%r is not the %s of the URL'
                    % (values[name], name))
        if 'hard_limit' not in values:
            raise exception.InvalidParameterValue(
                field='hard_limit', reason='the field is required')
        row = Quota.update(project_id, resource, values['hard_limit'])
        pecan.response.status = 202
        return _render(row)

    @pecan.expose(content_type='application/json')
    def delete(self, project_id, resource, **params):
        collection.change_query()
        context = pecan.request.context
        policy.authorize(context, 'quota:delete')
        _check_resource(resource)
        Quota.delete(project_id, resource)
        pecan.response.status = 204
        return ''
