"""The API's OpenAPI 3.1 description, made from the code's own declarations.

Served at ``GET /v1/openapi.json``. Nothing in it is written twice: a
request body's schema is made from the WSME fields its handler parses
(``BayModelFields``...), a response's from the view that renders it
(``collection.View``: which fields, the detail or the short form) and the
database columns behind those fields (their types, lengths and whether
they may be null), a list's ``sort_key`` values from the controller's
``SORT_KEYS``, a JSON-patch's paths from what the handler lets change.
What only this module says is the shape of the paths and which handler
serves each: the routers (``collection.Router`` and its subclasses) parse
paths in code, so ``magnum/tests/unit/api/test_openapi.py`` sends every
described operation through the real application and checks that it
reaches a handler, and the functional tests check that every answer they
get matches its operation here (``magnum/tests/functional/processes.py``).

Microversions: an operation or a field that needs one says so in
``x-openstack-min-version`` (the ``OpenStack-API-Version`` header asks for
one; without it a request is served as 1.1).
"""

import copy
import functools

import sqlalchemy as sa
from wsme import types as wtypes

from magnum.api.controllers.v1 import bay as bay_api
from magnum.api.controllers.v1 import baymodel as baymodel_api
from magnum.api.controllers.v1 import certificate as certificate_api
from magnum.api.controllers.v1 import cluster as cluster_api
from magnum.api.controllers.v1 import container as container_api
from magnum.api.controllers.v1 import kube_object
from magnum.api.controllers.v1 import magnum_service as mservice_api
from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import node as node_api
from magnum.api.controllers.v1 import nodegroup as nodegroup_api
from magnum.api.controllers.v1 import pod as pod_api
from magnum.api.controllers.v1 import quota as quota_api
from magnum.api.controllers.v1 import rc as rc_api
from magnum.api.controllers.v1 import service as service_api
from magnum.api.controllers.v1 import types
from magnum.api.middleware import version as api_version
from magnum.db.sqlalchemy import models
from magnum.lifecycle import idempotency
from magnum.objects import action as action_obj
from magnum.objects import container as container_obj

OPENAPI_VERSION = '3.1.0'
MIN_VERSION = 'x-openstack-min-version'
_ERROR = {'$ref': '#/components/responses/Error'}
_LINKS = {'type': 'array', 'items': {
    'type': 'object', 'required': ['href', 'rel'],
    'properties': {'href': {'type': 'string'}, 'rel': {'type': 'string'}}}}
_STRING_MAP = {'type': ['object', 'null'],
               'additionalProperties': {'type': 'string'}}
_TIMESTAMP = {'type': ['string', 'null'], 'format': 'date-time'}
# JSON columns: what each holds, by the name the API shows it under.
_JSON_COLUMNS = {
    'labels': _STRING_MAP,
    'environment': _STRING_MAP,
    'node_labels': _STRING_MAP,
    'health_status_reason': {'type': ['object', 'null']},
    'params': {'type': ['object', 'null']},
    'node_addresses': {'type': ['array', 'null']},
    'master_addresses': {'type': ['array', 'null']},
    'addresses': {'type': ['array', 'null']},
    'node_taints': {'type': ['array', 'null'], 'items': {
        'type': 'object', 'additionalProperties': {'type': 'string'}}},
}


def _version(version):
    return api_version.as_string(version)


# -- request bodies: from the WSME fields ------------------------------------

def _nullable(schema):
    kind = schema.get('type')
    if kind is None:
        return {'anyOf': [schema, {'type': 'null'}]}
    kinds = kind if isinstance(kind, list) else [kind]
    return dict(schema, type=kinds + ['null'] if 'null' not in kinds
                else kinds)


def type_schema(datatype):
    """The JSON schema of one WSME field type, as ``types.parse`` checks
    it (what its ``validate`` refuses beyond this, the 400 says)."""
    if isinstance(datatype, types.NameType):
        schema = {'type': 'string', 'minLength': 1, 'maxLength': 255}
        if datatype.pattern is not None:
            schema['pattern'] = datatype.pattern.pattern
        return schema
    if isinstance(datatype, types.IPv4Type):
        return {'type': 'string', 'format': 'ipv4'}
    if isinstance(datatype, types.URLType):
        return {'type': 'string', 'format': 'uri', 'maxLength': 255}
    if isinstance(datatype, wtypes.Enum):
        return {'type': 'string', 'enum': sorted(datatype.values)}
    if isinstance(datatype, wtypes.StringType):
        schema = {'type': 'string'}
        if datatype.max_length is not None:
            schema['maxLength'] = datatype.max_length
        return schema
    if isinstance(datatype, wtypes.IntegerType):
        schema = {'type': 'integer'}
        if datatype.minimum is not None:
            schema['minimum'] = datatype.minimum
        if datatype.maximum is not None:
            schema['maximum'] = datatype.maximum
        return schema
    if isinstance(datatype, wtypes.DictType):
        return {'type': 'object',
                'additionalProperties': type_schema(datatype.value_type)}
    if isinstance(datatype, wtypes.ArrayType):
        return {'type': 'array', 'items': type_schema(datatype.item_type)}
    if isinstance(datatype, wtypes.UserType):
        return type_schema(datatype.basetype)
    if datatype is bool:
        return {'type': 'boolean'}
    if datatype is int:
        return {'type': 'integer'}
    if datatype in (str, wtypes.text):
        return {'type': 'string'}
    raise TypeError('no schema for %r' % (datatype,))


def fields_schema(wstype, since=None):
    """A request body of the fields ``wstype`` declares: an object of them
    and nothing else; optional ones may be null. ``since``: {field: the
    API version it needs}."""
    properties = {}
    required = []
    for attr in wtypes.list_attributes(wstype):
        schema = type_schema(attr.datatype)
        if attr.mandatory:
            required.append(attr.name)
        else:
            schema = _nullable(schema)
        if since and attr.name in since:
            schema[MIN_VERSION] = _version(since[attr.name])
        properties[attr.name] = schema
    body = {'type': 'object', 'properties': properties,
            'additionalProperties': False}
    if required:
        body['required'] = sorted(required)
    return body


def patch_schema(paths):
    """A JSON-patch (RFC 6902) of the top-level ``paths`` (and, for maps
    and lists, their members)."""
    pattern = '^/(%s)(/.*)?$' % '|'.join(sorted(paths))
    return {
        'type': 'array', 'minItems': 1,
        'items': {
            'type': 'object', 'required': ['op', 'path'],
            'properties': {
                'op': {'type': 'string',
                       'enum': ['add', 'replace', 'remove']},
                'path': {'type': 'string', 'pattern': pattern},
                'value': {},
            },
        },
    }


# -- responses: from the views and the columns behind them -------------------

def column_schema(column, name):
    if isinstance(column.type, models.JSONEncoded):
        schema = copy.deepcopy(_JSON_COLUMNS.get(name, {}))
        return schema
    if isinstance(column.type, sa.DateTime):
        return dict(_TIMESTAMP)
    if isinstance(column.type, sa.Boolean):
        schema = {'type': 'boolean'}
    elif isinstance(column.type, sa.Integer):
        schema = {'type': 'integer'}
    elif isinstance(column.type, sa.String):
        schema = {'type': 'string'}
        if getattr(column.type, 'length', None):
            schema['maxLength'] = column.type.length
    else:
        schema = {}
    if column.nullable and schema:
        schema = _nullable(schema)
    return schema


def _columns(model):
    return {column.name: column for column in model.__table__.columns}


def record_schema(model, fields, renames=None, extra=None, links=True):
    """One resource as shown: ``fields`` (each from its column of
    ``model``, through ``renames`` {shown: column}), plus ``extra``
    {field: schema} the handler adds. The fields listed are always there;
    extra ones only where they say."""
    renames = renames or {}
    columns = _columns(model)
    properties = {}
    for name in fields:
        column = renames.get(name, name)
        if column in ('created_at', 'updated_at'):
            properties[name] = dict(_TIMESTAMP)
        else:
            properties[name] = column_schema(columns[column], name)
    properties.update(extra or {})
    required = list(fields)
    if links:
        properties['links'] = _LINKS
        required.append('links')
    return {'type': 'object', 'properties': properties,
            'required': sorted(required)}


def view_schema(view, model, detail=True, renames=None, extra=None):
    fields = [name for name, _ in (view.detail if detail else view.short)]
    return record_schema(model, fields, renames, extra,
                         links=view.link_key is not None)


def page_schema(collection_name, item):
    return {'type': 'object', 'required': [collection_name],
            'properties': {collection_name: {'type': 'array',
                                             'items': item},
                           'next': {'type': 'string'}}}


# -- parameters ------------------------------------------------------------

def _param(name, where='query', schema=None, required=False,
           description=None):
    param = {'name': name, 'in': where, 'required': required,
             'schema': schema or {'type': 'string'}}
    if description:
        param['description'] = description
    return param


_PATH_PARAMS = {
    'ident': 'the UUID or the name',
    'bay_ident': 'the bay\'s UUID or name',
    'nodegroup': 'the node group\'s UUID or name',
    'action': 'the action\'s UUID',
    'id': 'the conductor\'s id (an integer)',
    'project_id': 'the project\'s id',
    'resource': 'what the quota limits: Cluster',
}


def _path(name):
    return _param(name, 'path', required=True,
                  description=_PATH_PARAMS.get(name))


_FLAG = {'type': 'string', 'enum': ['true', 'false', 'True', 'False', '1',
                                    '0', 'yes', 'no', 'on', 'off']}


def list_params(sort_keys, marker='uuid', extra=()):
    """What ``collection.query`` reads."""
    marker_schema = ({'type': 'string', 'format': 'uuid'} if marker == 'uuid'
                     else {'type': 'string', 'pattern': '^[0-9]+$'})
    return [
        _param('limit', schema={'type': 'string', 'pattern': '^[0-9]+$'},
               description='at most this many (and at most [api] '
                           'max_limit); the answer\'s "next" link pages on'),
        _param('marker', schema=marker_schema,
               description='the last item of the page before'),
        _param('sort_key', schema={'type': 'string',
                                   'enum': sorted(sort_keys)}),
        _param('sort_dir', schema={'type': 'string',
                                   'enum': ['asc', 'desc']}),
        _param('all_projects', schema=_FLAG,
               description='every project\'s (where the policy allows)'),
        _param('all_tenants', schema=_FLAG,
               description='the older name of all_projects'),
    ] + list(extra)


_ROLLBACK = dict(_param('rollback', schema={'type': 'string', 'enum': [
    'true', 'false', 'True', 'False', '1', '0', 'yes', 'no']},
    description='undo the change if it fails'), **{
        MIN_VERSION: api_version.as_string(microversion.ROLLBACK)})


# -- the document --------------------------------------------------------

class _Document:
    """Paths collected one operation at a time."""

    def __init__(self):
        self.paths = {}

    def add(self, method, path, summary, tag, ok, response=None, body=None,
            params=(), since=None, backend=False, content='application/json'):
        """One operation: ``ok`` its success status, ``response`` the
        success body's schema (None: no body), ``body`` the request's,
        ``backend``: it waits on a conductor or a bay's own API (a 502
        when that failed on its side). Any operation may answer 503 when
        the database or a conductor does not answer."""
        names = [part[1:-1] for part in path.split('/')
                 if part.startswith('{')]
        operation = {
            'summary': summary,
            'tags': [tag],
            'operationId': '%s %s' % (method.upper(), path),
            'parameters': ([_path(name) for name in names] + list(params)
                           + [{'$ref': '#/components/parameters/'
                                       'OpenStackAPIVersion'}]),
            'responses': {},
        }
        success = {'description': summary}
        if response is not None:
            success['content'] = {content: {'schema': response}}
        operation['responses'][str(ok)] = success
        for code in ('4XX', '503') + (('502',) if backend else ()):
            operation['responses'][code] = _ERROR
        if body is not None:
            operation['requestBody'] = {
                'required': True,
                'content': {'application/json': {'schema': body}}}
        if since is not None:
            operation[MIN_VERSION] = _version(since)
        self.paths.setdefault(path, {})[method.lower()] = operation


def _listed(doc, name, tag, view, model, params, one):
    """A collection's list, detail list and item (``view`` of ``model``,
    its short and full form), as ``/v1/<name>`` serves them; returns the
    item's schema."""
    item = view_schema(view, model)
    base = '/v1/%s' % name
    doc.add('get', base, 'List %s' % name, tag, 200,
            page_schema(name, view_schema(view, model, detail=False)),
            params=params)
    doc.add('get', base + '/detail', 'List %s with every field' % name,
            tag, 200, page_schema(name, item), params=params)
    doc.add('get', base + '/{ident}', 'Show a %s' % one, tag, 200, item)
    return item


def _baymodels(doc, collection_name, tag, one):
    """``/v1/baymodels`` and ``/v1/clustertemplates``: one controller;
    ``one`` names an item."""
    base = '/v1/%s' % collection_name
    ident = base + '/{ident}'
    item = _listed(doc, collection_name, tag, baymodel_api.VIEW,
                   models.BayModel, list_params(baymodel_api.SORT_KEYS), one)
    doc.add('post', base, 'Create a %s' % one, tag, 201, item,
            body=fields_schema(baymodel_api.BayModelFields))
    doc.add('patch', ident, 'Change a %s (JSON-patch; only name, public, '
            'hidden and tags while bays use it)' % one, tag, 200, item,
            body=patch_schema(baymodel_api.WRITABLE))
    doc.add('delete', ident, 'Delete a %s (not while bays use it)' % one,
            tag, 204)


_IDEMPOTENCY = _param(
    idempotency.HEADER, 'header', description='a retried create with the '
    'same key and body answers the first one\'s bay instead of making '
    'another')


def _actions(doc, base, tag):
    """``<bay or cluster>/actions``: what was done to it."""
    columns = ('uuid', 'kind', 'status', 'status_reason', 'params',
               'request_id', 'project_id', 'user_id', 'created_at',
               'updated_at')
    item = record_schema(models.Action, columns, extra={
        'started_at': dict(_TIMESTAMP), 'finished_at': dict(_TIMESTAMP),
        'conductor': {'type': ['string', 'null'],
                      'description': 'admins only'},
        'kind': {'type': 'string', 'enum': sorted(action_obj.KINDS)},
        'status': {'type': 'string', 'enum': sorted(action_obj.STATUSES)}})
    item['required'] = sorted(set(item['required'])
                              | {'started_at', 'finished_at'})
    doc.add('get', base + '/actions', 'What was done to it, newest first',
            tag, 200, page_schema('actions', item),
            params=[_param('limit'), _param('marker'),
                    _param('sort_dir', schema={'type': 'string',
                                               'enum': ['asc', 'desc']})])
    doc.add('get', base + '/actions/{action}', 'One of its actions', tag,
            200, item)


def _bays(doc):
    tag = 'bays'
    item = _listed(doc, 'bays', tag, bay_api.VIEW, models.Bay,
                   list_params(bay_api.SORT_KEYS), 'bay')
    doc.add('post', '/v1/bays', 'Create a bay', tag, 201, item,
            body=fields_schema(bay_api.BayFields), params=[_IDEMPOTENCY],
            backend=True)
    doc.add('patch', '/v1/bays/{ident}', 'Scale a bay (JSON-patch of '
            'node_count)', tag, 202, item,
            body=patch_schema(bay_api.WRITABLE), backend=True)
    doc.add('delete', '/v1/bays/{ident}', 'Delete a bay', tag, 204,
            backend=True)
    doc.add('get', '/v1/bays/{ident}/config', 'A configuration for the '
            'caller: the CA, a fresh key and its certificate (never '
            'stored)', tag, 200, {'type': 'object'}, backend=True)
    _actions(doc, '/v1/bays/{ident}', tag)


_UUID_ANSWER = {'type': 'object', 'required': ['uuid'],
                'properties': {'uuid': {'type': 'string'}}}


def _clusters(doc):
    tag = 'clusters'
    view = cluster_api.VIEW
    renames = cluster_api.RENAMES
    cluster_id = {'type': ['string', 'null'],
                  MIN_VERSION: _version(microversion.CLUSTER_ID)}
    diff = {name: {'type': 'object'} for name in (
        'labels_overridden', 'labels_added', 'labels_skipped')}
    item = view_schema(view, models.Bay, renames=renames, extra=dict(
        diff, cluster_id=cluster_id, faults={'type': 'object'}))
    short = view_schema(view, models.Bay, False, renames,
                        {'cluster_id': cluster_id})
    params = list_params(cluster_api.SORT_KEYS)
    doc.add('get', '/v1/clusters', 'List clusters', tag, 200,
            page_schema('clusters', short), params=params)
    doc.add('get', '/v1/clusters/detail', 'List clusters with every field',
            tag, 200, page_schema('clusters', item), params=params)
    doc.add('get', '/v1/clusters/{ident}', 'Show a cluster', tag, 200, item)
    doc.add('post', '/v1/clusters', 'Create a cluster', tag, 202,
            _UUID_ANSWER, body=fields_schema(cluster_api.ClusterFields),
            params=[_IDEMPOTENCY], backend=True)
    doc.add('patch', '/v1/clusters/{ident}', 'Change a cluster: counts, '
            'name, labels, health (JSON-patch)', tag, 202, _UUID_ANSWER,
            body=patch_schema(cluster_api.PATCHABLE), params=[_ROLLBACK],
            backend=True)
    doc.add('delete', '/v1/clusters/{ident}', 'Delete a cluster', tag, 204,
            backend=True)
    doc.add('post', '/v1/clusters/{ident}/actions/resize', 'Resize a '
            'cluster or one of its node groups', tag, 202, _UUID_ANSWER,
            body=fields_schema(cluster_api.ResizeFields),
            params=[_ROLLBACK], since=microversion.RESIZE, backend=True)
    doc.add('post', '/v1/clusters/{ident}/actions/upgrade', 'Upgrade a '
            'cluster to another template', tag, 202, _UUID_ANSWER,
            body=fields_schema(cluster_api.UpgradeFields),
            params=[_ROLLBACK], since=microversion.UPGRADE, backend=True)
    _actions(doc, '/v1/clusters/{ident}', tag)
    _nodegroups(doc)


def _nodegroups(doc):
    tag = 'nodegroups'
    base = '/v1/clusters/{ident}/nodegroups'
    since = microversion.NODEGROUPS
    registration = {name: dict(_JSON_COLUMNS[name], **{
        MIN_VERSION: _version(microversion.NODE_LABELS)})
        for name in nodegroup_api.REGISTRATION}
    # NOTE: a default group's counts, flavor, image... are its cluster's.
    extra = dict(registration, stack_id={'type': ['string', 'null']},
                 version={'type': ['string', 'null']},
                 **{name: {'type': 'object'} for name in (
                     'labels_overridden', 'labels_added', 'labels_skipped')})
    item = record_schema(models.NodeGroup, nodegroup_api._DETAIL,
                         extra=extra)
    short = record_schema(models.NodeGroup, nodegroup_api._SHORT)
    params = list_params(nodegroup_api.SORT_KEYS, extra=[
        _param('role', description='only the groups of this role')])
    doc.add('get', base, 'List a cluster\'s node groups', tag, 200,
            page_schema('nodegroups', short), params=params, since=since)
    doc.add('get', base + '/detail', 'List a cluster\'s node groups with '
            'every field', tag, 200, page_schema('nodegroups', item),
            params=params, since=since)
    doc.add('get', base + '/{nodegroup}', 'Show a node group', tag, 200,
            item, since=since)
    doc.add('post', base, 'Add a node group', tag, 202, item,
            body=fields_schema(nodegroup_api.NodeGroupFields, since={
                name: microversion.NODE_LABELS
                for name in nodegroup_api.REGISTRATION}),
            params=[_ROLLBACK], since=since, backend=True)
    doc.add('patch', base + '/{nodegroup}', 'Change its counts (and from '
            '1.14 its node labels and taints)', tag, 202, item,
            body=patch_schema(nodegroup_api.WRITABLE
                              + nodegroup_api.REGISTRATION),
            params=[_ROLLBACK], since=since, backend=True)
    doc.add('delete', base + '/{nodegroup}', 'Delete a node group', tag,
            204, since=since, backend=True)


def _certificates(doc):
    tag = 'certificates'
    answer = {'type': 'object', 'required': ['bay_uuid', 'cluster_uuid',
                                             'links'],
              'properties': {'bay_uuid': {'type': 'string'},
                             'cluster_uuid': {'type': 'string'},
                             'pem': {'type': 'string'},
                             'csr': {'type': 'string'},
                             'links': _LINKS}}
    doc.add('get', '/v1/certificates/{ident}', 'A bay\'s CA certificate',
            tag, 200, answer, params=[_param('ca_cert_type')])
    doc.add('post', '/v1/certificates', 'Sign a CSR with a bay\'s CA', tag,
            201, answer, body=fields_schema(certificate_api.CertificateFields),
            backend=True)
    doc.add('patch', '/v1/certificates/{ident}', 'Rotate a bay\'s CA', tag,
            202, answer, backend=True)


def _containers(doc):
    tag = 'containers'
    params = list_params(container_api.SORT_KEYS, extra=[
        _param('bay_ident', description='only this bay\'s (UUID or name)')])
    item = _listed(doc, 'containers', tag, container_api.VIEW,
                   models.Container, params, 'container')
    doc.add('post', '/v1/containers', 'Create and start a container', tag,
            201, item, body=fields_schema(container_api.ContainerFields),
            backend=True)
    doc.add('delete', '/v1/containers/{ident}', 'Delete a container', tag,
            204, params=[_param('force', schema=_FLAG)], backend=True)
    for action in container_obj.ACTIONS:
        doc.add('put', '/v1/containers/{ident}/%s' % action,
                '%s the container' % action.capitalize(), tag, 200, item,
                backend=True)
    doc.add('put', '/v1/containers/{ident}/execute',
            'Run a command in a container', tag, 200, {'type': 'object'},
            params=[_param('command', required=True)], backend=True)
    doc.add('get', '/v1/containers/{ident}/logs', 'A container\'s output',
            tag, 200, {'type': 'object'}, backend=True)


def _kube_objects(doc, controller):
    """``/v1/pods``, ``/v1/services``, ``/v1/rcs``: objects of a bay's
    Kubernetes (the bay in the path or in ``?bay_ident=``)."""
    name = controller.collection_name
    tag = name
    base = '/v1/%s' % name
    item = {'type': 'object', 'required': ['uuid', 'name', 'bay_uuid',
                                           'links'],
            'properties': {'uuid': {'type': 'string'},
                           'name': {'type': 'string'},
                           'bay_uuid': {'type': 'string'},
                           'links': _LINKS}}
    bay = _param('bay_ident', description='the bay (UUID or name)')
    params = list_params(kube_object.SORT_KEYS, extra=[
        dict(bay, required=True)])
    doc.add('get', base, 'List a bay\'s %s' % name, tag, 200,
            page_schema(name, item), params=params, backend=True)
    doc.add('get', base + '/detail', 'List a bay\'s %s with every field'
            % name, tag, 200, page_schema(name, item), params=params,
            backend=True)
    doc.add('post', base, 'Create one of a bay\'s %s from a manifest'
            % name, tag, 201, item,
            body=fields_schema(kube_object.KubeObjectFields), backend=True)
    for path, params in ((base + '/{ident}', [bay]),
                         (base + '/{ident}/{bay_ident}', [])):
        doc.add('get', path, 'Show one of a bay\'s %s (by name or uid)'
                % name, tag, 200, item, params=params, backend=True)
        doc.add('patch', path, 'Change one of a bay\'s %s (a JSON-patch '
                'of its manifest)' % name, tag, 200, item, params=params,
                body={'type': 'array'}, backend=True)
        doc.add('delete', path, 'Delete one of a bay\'s %s' % name, tag,
                204, params=params, backend=True)


def _nodes(doc):
    tag = 'nodes'
    item = _listed(doc, 'nodes', tag, node_api.VIEW, models.Node,
                   list_params(node_api.SORT_KEYS), 'server')
    doc.add('post', '/v1/nodes', 'Register a node by hand', tag, 201, item,
            body=fields_schema(node_api.NodeFields))


def _mservices(doc):
    tag = 'mservices'
    item = record_schema(models.MagnumService, mservice_api.FIELDS,
                         extra={'state': {'type': 'string',
                                          'enum': ['up', 'down']}},
                         links=False)
    item['required'].append('state')
    doc.add('get', '/v1/mservices', 'The conductors and their heartbeats',
            tag, 200, page_schema('mservices', item), params=list_params(
                mservice_api.SORT_KEYS, marker='id'))
    doc.add('get', '/v1/mservices/{id}', 'A conductor and its heartbeat',
            tag, 200, item)
    doc.add('patch', '/v1/mservices/{id}', 'Take a conductor off the hash '
            'ring, or back (JSON-patch of disabled, disabled_reason)', tag,
            200, item, body=patch_schema(mservice_api.WRITABLE))


def _quotas(doc):
    tag = 'quotas'
    item = record_schema(models.Quota, quota_api._FIELDS, links=False)
    # NOTE: a project without a quota of its own shows the default, which
    # has no id.
    item['properties']['id'] = {'type': ['integer', 'null']}
    item['properties']['resource'] = {'type': 'string',
                                      'enum': list(quota_api.Quota.RESOURCES)}
    one = '/v1/quotas/{project_id}/{resource}'
    doc.add('get', '/v1/quotas', 'List quotas', tag, 200,
            page_schema('quotas', item),
            params=list_params(quota_api.SORT_KEYS, marker='id'))
    doc.add('post', '/v1/quotas', 'Set a project\'s quota', tag, 201, item,
            body=fields_schema(quota_api.QuotaFields))
    doc.add('get', one, 'A project\'s quota (or the default)', tag, 200,
            item)
    doc.add('patch', one, 'Change it ({"hard_limit": N})', tag, 202, item,
            body=fields_schema(quota_api.QuotaFields))
    doc.add('delete', one, 'Back to the default', tag, 204)


def _others(doc):
    version = {'type': 'object', 'required': ['id', 'links', 'status',
                                              'min_version', 'max_version'],
               'properties': {'id': {'type': 'string'}, 'links': _LINKS,
                              'status': {'type': 'string'},
                              'min_version': {'type': 'string'},
                              'max_version': {'type': 'string'}}}
    doc.add('get', '/', 'The API versions', 'versions', 200,
            {'type': 'object', 'required': ['versions', 'default_version'],
             'properties': {'versions': {'type': 'array', 'items': version},
                            'default_version': version}})
    doc.add('get', '/v1', 'Version 1: its collections', 'versions', 200,
            {'type': 'object', 'required': ['id', 'links', 'media_types'],
             'properties': {'id': {'const': 'v1'}, 'links': _LINKS}})
    doc.add('get', '/healthcheck', 'Whether this API process serves '
            '(oslo.middleware; 503 when disabled by file)', 'versions', 200,
            {'type': 'string'}, content='text/plain')
    doc.add('get', '/v1/openapi.json', 'The API\'s OpenAPI description '
            '(this document)', 'versions', 200,
            {'type': 'object', 'required': ['openapi', 'paths']})
    doc.add('patch', '/v1/credentials/{ident}', 'Rotate a cluster\'s '
            'credentials', 'credentials', 202, _UUID_ANSWER, backend=True)
    doc.add('get', '/v1/stats', 'How many clusters and nodes', 'stats', 200,
            {'type': 'object', 'required': ['clusters', 'nodes'],
             'properties': {'clusters': {'type': 'integer'},
                            'nodes': {'type': 'integer'}}},
            params=[_param('project_id'),
                    _param('type', schema={'type': 'string',
                                           'enum': ['cluster']}),
                    _param('all_projects', schema=_FLAG),
                    _param('all_tenants', schema=_FLAG)],
            since=microversion.STATS)


_TAGS = (
    ('versions', 'The API\'s versions, its description, its health'),
    ('baymodels', 'Cluster shapes (the bay era\'s name)'),
    ('clustertemplates', 'The same cluster shapes, by their later name'),
    ('bays', 'Clusters (the bay era\'s name)'),
    ('clusters', 'The same clusters, by their later name, with their '
                 'actions'),
    ('nodegroups', 'Groups of a cluster\'s servers (API 1.9)'),
    ('certificates', 'A bay\'s CA: show it, sign a CSR, rotate it'),
    ('credentials', 'A cluster\'s credentials, rotated'),
    ('containers', 'Containers on docker and swarm bays'),
    ('pods', 'Pods of a kubernetes bay'),
    ('services', 'Services of a kubernetes bay'),
    ('rcs', 'Replication controllers of a kubernetes bay'),
    ('nodes', 'The bays\' servers, as their provisioners report them'),
    ('mservices', 'The conductors (admin only)'),
    ('quotas', 'Per-project limits (admin only, but a project\'s own)'),
    ('stats', 'How many clusters and nodes (API 1.4)'),
)

_ERROR_BODY = {
    'type': 'object', 'required': ['error_message'],
    'properties': {'error_message': {
        'type': 'string', 'contentMediaType': 'application/json',
        'description': 'a JSON document: faultstring (what is wrong, '
                       'naming the field), faultcode (Client or Server), '
                       'debuginfo (null)'}},
}


@functools.lru_cache(maxsize=1)
def document():
    """The whole description (a dict, built once a process)."""
    doc = _Document()
    _others(doc)
    _baymodels(doc, 'baymodels', 'baymodels', 'BayModel')
    _baymodels(doc, 'clustertemplates', 'clustertemplates',
               'cluster template')
    _bays(doc)
    _clusters(doc)
    _certificates(doc)
    _containers(doc)
    for controller in (pod_api.PodsController, service_api.ServicesController,
                       rc_api.ReplicationControllersController):
        _kube_objects(doc, controller)
    _nodes(doc)
    _mservices(doc)
    _quotas(doc)
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'Magnum container infrastructure API',
            'version': _version(api_version.MAX_VERSION),
            'description': 'Bays (clusters) of Kubernetes, Swarm or Docker '
                           'from BayModels (cluster templates), and what '
                           'runs on them. Versions %s to %s (header '
                           'OpenStack-API-Version: container-infra X.Y).'
                           % (_version(api_version.MIN_VERSION),
                              _version(api_version.MAX_VERSION)),
        },
        'tags': [{'name': name, 'description': text}
                 for name, text in _TAGS],
        'paths': doc.paths,
        'components': {
            'schemas': {'Error': _ERROR_BODY},
            'responses': {'Error': {
                'description': 'The request was refused (4xx), a backend '
                               'failed on its side (502) or did not answer '
                               '(503); the message says why',
                'content': {'application/json': {
                    'schema': {'$ref': '#/components/schemas/Error'}}}}},
            'parameters': {'OpenStackAPIVersion': _param(
                api_version.HEADER, 'header',
                schema={'type': 'string',
                        'pattern': r'^container-infra '
                                   r'([0-9]+\.[0-9]+|latest)$'},
                description='the microversion asked for; 1.1 without it')},
            'securitySchemes': {'keystone': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token'}},
        },
        'security': [{'keystone': []}, {}],
    }

