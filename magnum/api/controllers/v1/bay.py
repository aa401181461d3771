"""``/v1/bays``: clusters. Changes are written first, then cast."""

from oslo_config import cfg
from oslo_utils import uuidutils
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.common import provisioning
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj

_NAME = types.NameType(
    pattern=r'^[a-zA-Z][a-zA-Z0-9_.-]*$',
    hint='a bay name starts with a letter and has only letters, digits, '
         '"_", "." and "-"')


class BayFields(wtypes.Base):
    """The fields a client may set, each with its rules."""

    name = _NAME
    baymodel_id = wtypes.wsattr(types.string(), mandatory=True)
    node_count = types.integer(minimum=1, maximum=100000)
    master_count = types.integer(minimum=1, maximum=100)
    bay_create_timeout = types.integer(minimum=0, maximum=525600)
    discovery_url = types.URLType()


# Only the node count changes after create: it scales the bay.
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


def _target(bay):
    return {'project_id': bay.project_id, 'user_id': bay.user_id}


class BaysController(collection.CollectionController):

    def _list(self, detail, params):
        context = pecan.request.context
        policy.authorize(context, 'bay:get_all')
        if context.all_projects:
            policy.authorize(context, 'bay:get_all_all_projects')
        query = collection.query(params, SORT_KEYS)
        rows, more = collection.fetch(bay_obj.Bay.records, context, query)
        return VIEW.render_page(rows, more, query, detail)

    @pecan.expose('json')
    def get_all(self, **params):
        return self._list(False, params)

    @pecan.expose('json')
    def detail(self, **params):
        return self._list(True, params)

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        row = bay_obj.Bay.record(context, ident)
        policy.authorize(context, 'bay:get', _target(row))
        return VIEW.render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, 'bay:create')
        values = types.parse(BayFields, types.json_body())
        try:
            baymodel = baymodel_obj.BayModel.get(context,
                                                 values['baymodel_id'])
        except exception.BayModelNotFound as e:
            raise exception.InvalidParameterValue(field='baymodel_id',
                                                  reason=str(e))
        if values.get('bay_create_timeout') is None:
            values['bay_create_timeout'] = cfg.CONF.bay.create_timeout
        if not values.get('name'):
            values['name'] = 'bay-%s' % uuidutils.generate_uuid()[:8]
        values.setdefault('node_count', 1)
        values.setdefault('master_count', 1)
        for name in ('node_count', 'master_count'):
            if values[name] is None:
                values[name] = 1
        provisioner = provisioning.provisioner_for(baymodel.labels)
        provisioning.validate(provisioner, baymodel, values)
        bay = bay_obj.Bay(
            context, baymodel_id=baymodel.uuid, provisioner=provisioner,
            status=bay_obj.CREATE_IN_PROGRESS,
            **{k: v for k, v in values.items() if k != 'baymodel_id'})
        bay.create(context)
        # NOTE: read back before the cast: a fast conductor may finish first.
        body = VIEW.render(bay_obj.Bay.record(context, bay.uuid))
        pecan.request.rpcapi.bay_create(context, bay)
        pecan.response.status = 201
        return body

    @pecan.expose('json')
    def patch(self, ident):
        context = pecan.request.context
        bay = bay_obj.Bay.get(context, ident)
        policy.authorize(context, 'bay:update', _target(bay))
        before = {name: bay[name] for name in WRITABLE}
        after = json_patch.apply(before, types.json_body(), WRITABLE)
        changes = types.parse(BayFields, json_patch.changed(before, after),
                              partial=True)
        if changes.get('node_count', 0) is None:
            raise exception.InvalidParameterValue(
                field='node_count', reason='the field is required')
        if bay.status not in bay_obj.UPDATABLE:
            raise exception.BayInProgress(bay=bay.uuid, status=bay.status)
        for name, value in changes.items():
            bay[name] = value
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        bay.status_reason = None
        # NOTE: one conditional UPDATE: a bay that is locked, or whose status
        # changed since we read it, is a 409 and stays as it was.
        bay.save(expected_statuses=bay_obj.UPDATABLE, unlocked=True)
        body = VIEW.render(bay_obj.Bay.record(context, bay.uuid))
        pecan.request.rpcapi.bay_update(context, bay)
        pecan.response.status = 202
        return body

    @pecan.expose()
    def delete(self, ident):
        context = pecan.request.context
        bay = bay_obj.Bay.get(context, ident)
        policy.authorize(context, 'bay:delete', _target(bay))
        if bay.status != bay_obj.DELETE_IN_PROGRESS:
            bay.status = bay_obj.DELETE_IN_PROGRESS
            bay.status_reason = None
            bay.save(expected_statuses=bay_obj.DELETABLE, unlocked=True)
        pecan.request.rpcapi.bay_delete(context, bay)
        pecan.response.status = 204
        return ''
