"""Node groups, resize and upgrade of a cluster reach the real Heat stack.

One cluster through ``/v1/clusters`` (a master, a default worker) built by
the heat provisioner on the real Heat engine (``heat.Heat``, the tests'
Heat environment standing in for Nova and Neutron). Each step is checked in
Heat's own answer, read with python-heatclient as the cluster's owner: an
extra node group is a resource group of its own in the stack, its servers
boot with its node labels and taints, magnum-auto-healer's repair (a resize
of the group by name to its own count, with ``nodes_to_remove``) replaces
the server named, an upgrade changes the servers' image, a deleted group's
servers are gone, and a failed resize asked with ``?rollback=True`` is
rolled back by Heat and in Magnum.
"""

import pytest

from magnum.tests.functional.capi import management as capi_management
from magnum.tests.functional import cluster_tools
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.heat, pytest.mark.kubernetes]

SETTLE = 240
VERSION = {'OpenStack-API-Version': 'container-infra 1.10'}


@pytest.fixture(scope='module')
def magnum(keystone, heat, kube, capi):
    """Heat the default provisioner, and the capi provisioner beside it
    (the session's management cluster and stand-in)."""
    extra = heat_mod.provisioner_config(keystone)
    extra.update(capi_management.magnum_config(keystone, kube))
    with keystone_mod.magnum_behind(keystone, extra=extra) as services:
        yield services


@pytest.fixture(scope='module')
def owner(keystone, magnum):
    """A member of a project of its own, with its Magnum and Heat clients."""
    project = processes.unique_name('ng-project')
    project_id = keystone.create_project(project)
    name = processes.unique_name('ng-member')
    password = processes.unique_name('pw')
    keystone.create_user(name, password, project_id, ['member'])
    token = keystone.token_for(name, password, project)
    client = processes.Client(magnum, headers=dict(VERSION, **{
        'X-Auth-Token': token}))
    client.heat = heat_mod.client(keystone, name, password, project)
    yield client
    client.close()


def _template(api, image):
    response = api.post('/v1/clustertemplates', json=dict(
        name=processes.unique_name('ct'), coe='kubernetes', image_id=image,
        flavor_id='m1.small', external_network_id='public',
        keypair_id='default', cluster_distro='fedora',
        # NOTE: no floating IPs and no volumes: fewer nested stacks for
        # Heat to walk through on each update.
        floating_ip_enabled=False, labels={'kube_tag': 'v1.30'}))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope='module')
def cluster(owner, magnum):
    template = _template(owner, 'fedora-40')
    response = owner.post('/v1/clusters', json={
        'name': processes.unique_name('ng'), 'master_count': 1,
        'node_count': 1, 'cluster_template_id': template['uuid']})
    assert response.status_code == 202, response.text
    done = _settled(owner, magnum, response.json()['uuid'], 'CREATE')
    assert done['status'] == 'CREATE_COMPLETE', done['status_reason']
    yield done
    # NOTE: the delete of a Heat bay is test_heat_bays.py's; Heat deletes
    # this one while the session goes on, and goes with the session.
    owner.delete('/v1/clusters/%s' % done['uuid'])


def _settled(api, magnum, uuid, action='UPDATE'):
    return processes.wait_for_bay(
        api, magnum, uuid, ('%s_COMPLETE' % action, '%s_FAILED' % action),
        timeout=SETTLE)


def _members(api, cluster, group):
    """Heat's servers of ``group``'s resource group: {member name: the
    server's parameters}, or None when the stack has no such group."""
    from heatclient import exc as heat_exc
    nested = api.heat.resources.get(cluster['stack_id'], 'cluster')
    try:
        resource = api.heat.resources.get(nested.physical_resource_id,
                                          group)
    except heat_exc.HTTPNotFound:
        return None
    assert resource.resource_type == 'OS::Heat::ResourceGroup'
    return {m.resource_name: api.heat.stacks.get(
        m.physical_resource_id).parameters
        for m in api.heat.resources.list(resource.physical_resource_id)}


def _nodes(api, cluster, group):
    rows = api.get('/v1/nodes/detail?limit=1000').json()['nodes']
    return sorted((n for n in rows if n['bay_uuid'] == cluster['uuid']
                   and n['nodegroup'] == group), key=lambda n: n['name'])


def _group(api, cluster, name):
    response = api.get('/v1/clusters/%s/nodegroups/%s' % (cluster['uuid'],
                                                          name))
    assert response.status_code == 200, response.text
    return response.json()


def test_extra_group_is_created_resized_upgraded_and_deleted_in_heat(
        owner, magnum, cluster):
    uuid = cluster['uuid']
    assert _members(owner, cluster, 'nodegroup-extra') is None
    response = owner.post('/v1/clusters/%s/nodegroups' % uuid, headers={
        'OpenStack-API-Version': 'container-infra 1.14'}, json={
        'name': 'extra', 'node_count': 2, 'flavor_id': 'm1.tiny',
        'node_labels': {'example.com/pool': 'batch', 'tier': 'db'},
        'node_taints': [{'key': 'batch', 'value': '',
                         'effect': 'NoSchedule'},
                        {'key': 'gpu', 'value': 'a100',
                         'effect': 'NoExecute'}]})
    assert response.status_code == 202, response.text
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    members = _members(owner, cluster, 'nodegroup-extra')
    assert sorted(members) == ['0', '1']
    assert {p['flavor'] for p in members.values()} == {'m1.tiny'}
    # API 1.14: the group's servers boot with its labels and taints, in
    # the kubelet's syntax; the default workers with none.
    assert {_registration(p['user_data']) for p in members.values()} == {(
        'example.com/pool=batch,tier=db',
        'batch:NoSchedule,gpu=a100:NoExecute')}
    assert {_registration(p['user_data']) for p in _members(
        owner, cluster, 'nodes').values()} == {('', '')}
    nodes = _nodes(owner, cluster, 'extra')
    assert [n['name'] for n in nodes] == sorted(
        p['name'] for p in members.values())
    group = _group(owner, cluster, 'extra')
    assert group['status'] == 'CREATE_COMPLETE'
    assert sorted(group['node_addresses']) == sorted(
        n['addresses'][-1] for n in nodes)
    # The default groups kept their servers.
    assert sorted(_members(owner, cluster, 'nodes')) == ['0']

    # A server of another group, or none at all: a 400 naming the field.
    master = _nodes(owner, cluster, 'default-master')[0]
    for name in (master['name'], 'no-such-server'):
        response = owner.post('/v1/clusters/%s/actions/resize' % uuid, json={
            'node_count': 1, 'nodegroup': 'extra',
            'nodes_to_remove': [name]})
        assert response.status_code == 400, response.text
        assert 'nodes_to_remove' in processes.faultstring(response)

    # magnum-auto-healer repairs the first server (cluster_tools): its
    # group found by the node's address, resized by name to its own count
    # with the server named by its id. Heat replaces that one only.
    removed, kept = nodes
    repaired = cluster_tools.healer_repair(owner, cluster['name'],
                                           removed['addresses'][-1],
                                           removed['server_id'])
    assert repaired == 'extra'
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    members = _members(owner, cluster, 'nodegroup-extra')
    names = [p['name'] for p in members.values()]
    assert len(names) == 2 and kept['name'] in names, names
    assert removed['name'] not in names
    servers = [n['server_id'] for n in _nodes(owner, cluster, 'extra')]
    assert kept['server_id'] in servers and len(servers) == 2, servers
    assert removed['server_id'] not in servers
    assert _group(owner, cluster, 'extra')['node_count'] == 2
    # ... as its action says: what was asked, the server by its id.
    resize = _newest_action(owner, uuid)
    assert (resize['kind'], resize['status']) == ('resize', 'COMPLETE')
    assert resize['params']['nodes_to_remove'] == [removed['server_id']]
    assert resize['params']['node_count'] == 2

    # The cluster upgraded to another image: Heat's default servers have
    # it; an extra group keeps its own until it is upgraded by name (the
    # unit tests: test_nodegroups.py, test_heat_templates.py).
    newer = _template(owner, 'fedora-41')
    response = owner.post('/v1/clusters/%s/actions/upgrade' % uuid, json={
        'cluster_template': newer['uuid'], 'max_batch_size': 1})
    assert response.status_code == 202, response.text
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    for group in ('masters', 'nodes'):
        images = {p['image'] for p in _members(owner, cluster,
                                               group).values()}
        assert images == {'fedora-41'}, group
    # ... and the server replaced stays gone (Heat never reuses its name).
    members = _members(owner, cluster, 'nodegroup-extra')
    assert sorted(p['name'] for p in members.values()) == sorted(names)
    assert {p['image'] for p in members.values()} == {'fedora-40'}
    assert {n['image_id'] for n in _nodes(owner, cluster, 'default-worker')
            } == {'fedora-41'}

    # Deleted: its resource group and servers are gone from Heat.
    response = owner.delete('/v1/clusters/%s/nodegroups/extra' % uuid)
    assert response.status_code == 204, response.text
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    assert _members(owner, cluster, 'nodegroup-extra') is None
    assert _nodes(owner, cluster, 'extra') == []
    assert sorted(_members(owner, cluster, 'nodes')) == ['0']


def _registration(user_data):
    """(NODE_LABELS, NODE_TAINTS) of a server's boot configuration (the
    part fragments/write-nodegroup-env.sh renders)."""
    [part] = [text for _, text in heat_mod.boot_parts(user_data)
              if 'MAGNUM_NODEGROUP_END' in text]
    values = dict(line.split('=', 1) for line in part.split(
        "<<'MAGNUM_NODEGROUP_END'\n", 1)[1].split(
        '\nMAGNUM_NODEGROUP_END', 1)[0].splitlines())
    return values['NODE_LABELS'], values['NODE_TAINTS']


def _newest_action(client, uuid):
    response = client.get('/v1/clusters/%s/actions?limit=1' % uuid)
    assert response.status_code == 200, response.text
    return response.json()['actions'][0]


def test_failed_resize_with_rollback_is_rolled_back_by_heat(
        owner, magnum, cluster):
    uuid = cluster['uuid']
    # Servers of flavor m1.fail fail to create (heat_env/server.yaml).
    response = owner.post('/v1/clusters/%s/nodegroups' % uuid, json={
        'name': 'flaky', 'node_count': 0, 'flavor_id': 'm1.fail'})
    assert response.status_code == 202, response.text
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    assert _members(owner, cluster, 'nodegroup-flaky') == {}

    response = owner.post(
        '/v1/clusters/%s/actions/resize?rollback=True' % uuid,
        json={'node_count': 1, 'nodegroup': 'flaky'})
    assert response.status_code == 202, response.text
    done = _settled(owner, magnum, uuid)
    assert done['status'] == 'UPDATE_FAILED'
    assert 'rolled back' in done['status_reason']
    stack = owner.heat.stacks.get(cluster['stack_id'])
    assert stack.stack_status == 'ROLLBACK_COMPLETE', (
        stack.stack_status_reason)
    assert _members(owner, cluster, 'nodegroup-flaky') == {}
    group = _group(owner, cluster, 'flaky')
    assert group['node_count'] == 0
    assert group['status'] == 'UPDATE_FAILED'
    assert done['node_count'] == 1
    assert sorted(_members(owner, cluster, 'nodes')) == ['0']
    # The resize's action: rolled back, with Heat's reason for the failure
    # (the failed server's), not only that Heat rolled back.
    action = _newest_action(owner, uuid)
    assert (action['kind'], action['status']) == ('resize', 'ROLLED_BACK')
    assert action['status_reason'] == done['status_reason']
    assert 'Test Resource failed' in action['status_reason'], (
        action['status_reason'])


def test_a_heat_bay_and_a_capi_bay_at_once(owner, magnum, cluster):
    """One deployment, two provisioners: the Heat cluster is resized while
    a Cluster API bay is created, and both finish."""
    template = owner.post('/v1/clustertemplates', json={
        'name': processes.unique_name('capi-ct'), 'coe': 'kubernetes',
        'image_id': 'ubuntu-2404-kube', 'flavor_id': 'm1.small',
        'master_flavor_id': 'm1.medium', 'external_network_id': 'public',
        'labels': {'provisioner': 'capi', 'kube_tag': 'v1.33.4'}})
    assert template.status_code == 201, template.text
    heat_uuid = cluster['uuid']
    count = _group(owner, cluster, 'default-worker')['node_count']
    response = owner.post('/v1/clusters/%s/actions/resize' % heat_uuid,
                          json={'node_count': count + 1})
    assert response.status_code == 202, response.text
    response = owner.post('/v1/clusters', json={
        'name': processes.unique_name('capi'), 'master_count': 1,
        'node_count': 1, 'cluster_template_id': template.json()['uuid']})
    assert response.status_code == 202, response.text
    capi_uuid = response.json()['uuid']
    assert owner.get('/v1/clusters/%s' % heat_uuid).json()[
        'status'] == 'UPDATE_IN_PROGRESS'
    capi_bay = processes.wait_for_bay(
        owner, magnum, capi_uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'),
        timeout=60)
    assert capi_bay['status'] == 'CREATE_COMPLETE', capi_bay['status_reason']
    assert '/' in capi_bay['stack_id']   # <namespace>/<Cluster>
    heat_bay = _settled(owner, magnum, heat_uuid)
    assert heat_bay['status'] == 'UPDATE_COMPLETE', heat_bay['status_reason']
    assert heat_bay['node_count'] == count + 1
    assert owner.delete('/v1/clusters/%s' % capi_uuid).status_code == 204
    assert processes.wait_for_bay(owner, magnum, capi_uuid,
                                  (None, 'DELETE_FAILED'), timeout=60) is None
