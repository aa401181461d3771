"""``/v1/containers``: containers on Docker and Swarm bays.

Reads come from the database (the reconciler keeps it true); everything
that touches an engine is a synchronous call to a conductor, answered with
what the engine did. Actions are ``PUT /v1/containers/<ident>/<action>``
with an empty body; ``GET .../logs`` and ``PUT .../execute?command=`` answer
``{"output": ...}``.
"""

import shlex

from oslo_utils import uuidutils
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum import objects
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import container as container_obj
from magnum.objects import states

objects.register_all()

COES = ('docker', 'swarm')
READY = states.READY_FOR_CONTAINERS
RESERVED_LABEL_PREFIX = 'magnum.'
HIDDEN = '******'

_NAME = types.NameType(
    pattern=r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
    hint='a container name starts with a letter or digit and has only '
         'letters, digits, "_", "." and "-"')


class CommandType(wtypes.UserType):
    """A command line, split as a shell would (``shlex``)."""

    basetype = wtypes.text
    name = 'command'

    def validate(self, value):
        if len(value) > 4096:
            raise ValueError('a command is at most 4096 characters')
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise ValueError('%r cannot be split into words: %s'
                             % (value, e))
        if not words:
            raise ValueError('the command is empty')
        return value


class MemoryType(wtypes.UserType):
    basetype = wtypes.text
    name = 'memory'

    def validate(self, value):
        container_obj.memory_bytes(value.lower())
        return value


class ContainerFields(wtypes.Base):
    """The fields a client may set, each with its rules."""

    name = _NAME
    image = wtypes.wsattr(types.string(), mandatory=True)
    command = CommandType()
    bay_uuid = wtypes.wsattr(types.string(), mandatory=True)
    memory = MemoryType()
    environment = {wtypes.text: wtypes.text}
    labels = {wtypes.text: wtypes.text}


VIEW = collection.View(
    'containers',
    short_fields=('uuid', 'name', 'image', 'command', 'status', 'bay_uuid',
                  'memory'),
    detail_fields=('uuid', 'name', 'project_id', 'user_id', 'image',
                   'command', 'bay_uuid', 'memory', 'environment', 'labels',
                   'status', 'status_reason', 'container_id', 'created_at',
                   'updated_at'))
SORT_KEYS = ('id', 'uuid', 'name', 'project_id', 'user_id', 'image',
             'bay_uuid', 'memory', 'status', 'created_at', 'updated_at')


def _render(row, detail=True, base=None):
    body = VIEW.render(row, detail, base)
    # NOTE: environment values are often secrets (passwords, tokens): they
    # reach the container, never a response; the names are shown.
    if body.get('environment'):
        body['environment'] = {name: HIDDEN for name in body['environment']}
    return body


def _check_body(values):
    for field in ('environment', 'labels'):
        for key in (values.get(field) or {}):
            if not key:
                raise exception.InvalidParameterValue(
                    field=field, reason='a name must not be empty')
            if field == 'environment' and '=' in key:
                raise exception.InvalidParameterValue(
                    field='environment.%s' % key,
                    reason='a variable name has no "="')
            if field == 'labels' and key.startswith(RESERVED_LABEL_PREFIX):
                raise exception.InvalidParameterValue(
                    field='labels.%s' % key,
                    reason='labels starting with "%s" are Magnum\'s own'
                           % RESERVED_LABEL_PREFIX)


def _bay_for(context, ident, field):
    """The caller's bay ``ident``, which must be able to run containers."""
    try:
        bay = bay_obj.Bay.get(context, ident)
    except exception.BayNotFound as e:
        raise exception.InvalidParameterValue(field=field, reason=str(e))
    baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(context,
                                                          bay.baymodel_id)
    if baymodel.coe not in COES:
        raise exception.InvalidParameterValue(
            field=field, reason='bay %s is a %s bay; containers run on '
            'docker and swarm bays' % (bay.uuid, baymodel.coe))
    return bay


# What an action would act on, in "there is nothing to ...".
_ACTION_WORDS = {'logs': 'read logs from', 'execute': 'run a command in'}


def _refuse_never_created(container, action):
    """A 409 naming the status and its reason for an action on a container
    whose create failed (no engine container; not Creating): waiting does
    not help, so the conductor is not asked."""
    if container.container_id or container.status == container_obj.CREATING:
        return
    reason = (container.status_reason or 'no reason was recorded').rstrip(
        '. ')
    raise exception.ContainerNeverCreated(
        container=container.uuid, status=container.status, reason=reason,
        action=_ACTION_WORDS.get(action, action))


class ContainersController(collection.ListedCollectionController):

    def _list(self, detail, params):
        context = pecan.request.context
        policy.authorize(context, 'container:get_all')
        if context.all_projects:
            policy.authorize(context, 'container:get_all_all_projects')
        query = collection.query(params, SORT_KEYS, extra=('bay_ident',))
        bay_ident = params.get('bay_ident')
        if bay_ident is not None:
            try:
                bay = bay_obj.Bay.get(context, bay_ident)
            except exception.BayNotFound as e:
                raise exception.InvalidParameterValue(field='bay_ident',
                                                      reason=str(e))
            rows, more = collection.fetch(
                lambda ctx, **q: container_obj.Container.records(
                    ctx, bay_uuid=bay.uuid, **q), context, query)
        else:
            rows, more = collection.fetch(container_obj.Container.records,
                                          context, query)
        body = VIEW.render_page(rows, more, query, detail)
        for item in body['containers']:
            if item.get('environment'):
                item['environment'] = {name: HIDDEN
                                       for name in item['environment']}
        return body

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        row = access.fetch_authorized(
            context, container_obj.Container.record, ident, 'container:get')
        return _render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, 'container:create')
        values = types.parse(ContainerFields, types.json_body())
        _check_body(values)
        if values.get('memory'):
            values['memory'] = values['memory'].lower()
        bay = _bay_for(context, values.pop('bay_uuid'), 'bay_uuid')
        if bay.status not in READY:
            raise exception.InvalidParameterValue(
                field='bay_uuid', reason='bay %s is %s; containers can be '
                'created once it is %s' % (bay.uuid, bay.status,
                                           ', '.join(READY)))
        if not values.get('name'):
            values['name'] = 'container-%s' % uuidutils.generate_uuid()[:8]
        fields = {name: values.get(name) for name in
                  ('name', 'image', 'command', 'memory', 'environment',
                   'labels')}
        container = container_obj.Container(
            context, uuid=uuidutils.generate_uuid(), bay_uuid=bay.uuid,
            **fields)
        pecan.request.rpcapi.container_create(context, container)
        body = _render(container_obj.Container.record(context,
                                                      container.uuid))
        pecan.response.status = 201
        return body

    @pecan.expose(content_type='application/json')
    def delete(self, ident, **params):
        force = collection.flag(params, 'force')
        collection.refuse_query(params)
        context = pecan.request.context
        container = access.fetch_authorized(
            context, container_obj.Container.get, ident, 'container:delete')
        pecan.request.rpcapi.container_delete(context, container, force)
        pecan.response.status = 204
        return ''

    # -- /v1/containers/<ident>/<action> -----------------------------------

    def _route_extra(self, args, request):
        if len(args) == 2:
            ident, action = args
            if action in container_obj.ACTIONS or action == 'execute':
                methods = {'PUT': 'put_action'}
            elif action == 'logs':
                methods = {'GET': 'get_logs'}
            else:
                methods = None
            if methods is not None:
                return self._handler(methods, request), [ident, action]
        return super()._route_extra(args, request)

    def _container(self, ident, action):
        context = pecan.request.context
        container = access.fetch_authorized(
            context, container_obj.Container.get, ident,
            'container:%s' % action)
        _refuse_never_created(container, action)
        return context, container

    @pecan.expose('json')
    def put_action(self, ident, action, **params):
        rpcapi = pecan.request.rpcapi
        if action == 'execute':
            command = params.pop('command', None)
            collection.refuse_query(params)
            if command is None or isinstance(command, list):
                raise exception.InvalidParameterValue(
                    field='command', reason='give one command=... in the '
                                            'query string')
            types.check_text('command', command)
            try:
                CommandType().validate(command)
            except ValueError as e:
                raise exception.InvalidParameterValue(field='command',
                                                      reason=str(e))
            context, container = self._container(ident, 'execute')
            return rpcapi.container_execute(context, container, command)
        collection.refuse_query(params)
        context, container = self._container(ident, action)
        rpcapi.container_action(context, container, action)
        return _render(container_obj.Container.record(context,
                                                      container.uuid))

    @pecan.expose('json')
    def get_logs(self, ident, action, **params):
        collection.refuse_query(params)
        context, container = self._container(ident, 'logs')
        return pecan.request.rpcapi.container_logs(context, container)
