"""The requests two tools in users' clusters send to Magnum, replayed as
their source sends them (gophercloud's headers and bodies, byte for byte
where it matters).

- magnum-auto-healer (kubernetes/cloud-provider-openstack,
  pkg/autohealing/cloudprovider/openstack/provider.go): a health report
  (``UpdateHealthStatus``: a PATCH of health_status and a Python-literal
  health_status_reason, then a GET every 3 s until the status ends in
  ``_COMPLETE``), and a worker's repair (``Repair``: the node groups
  listed, each read, then a resize of the node's group by name, its count
  unchanged, with the server to replace).
- the cluster-autoscaler's Magnum provider (kubernetes/autoscaler,
  cluster-autoscaler/cloudprovider/magnum/): the cluster read by name,
  the node groups listed and each read for its bounds (autodiscovery,
  every 60 s), resizes by node group uuid (up; down with
  ``nodes_to_remove``, the nodes' system UUIDs, i.e. server ids).

Neither waits on Magnum's answer body beyond decoding it as JSON; both
need 200 or 202 with a JSON body. The Heat calls both make around these
are Heat's API (the real heat-api in the Heat tests), not Magnum's.
"""

import time

# What gophercloud sends on every request to Magnum.
GOPHERCLOUD = {'Accept': 'application/json',
               'OpenStack-API-Version': 'container-infra latest'}
HEALER = dict(GOPHERCLOUD, **{
    'User-Agent': 'magnum-auto-healer/v1.33.0 gophercloud/v2.12.0'})
AUTOSCALER = dict(GOPHERCLOUD, **{
    'User-Agent': 'cluster/c cluster-autoscaler/1.33.0 gophercloud/2.0.0'})


def _json(response, *statuses):
    assert response.status_code in statuses, (response.status_code,
                                              response.text)
    # NOTE: gophercloud decodes every accepted answer as JSON.
    return response.json()


def healer_report(api, cluster, status, reason, wait=30):
    """``UpdateHealthStatus`` then ``waitForClusterComplete``: returns
    the cluster the last GET showed."""
    body = _json(api.patch('/v1/clusters/%s' % cluster, headers=HEALER,
                           json=[{'op': 'replace', 'path': '/health_status',
                                  'value': status},
                                 {'op': 'replace',
                                  'path': '/health_status_reason',
                                  'value': reason}]), 200, 202)
    assert set(body) == {'uuid'}, body
    deadline = time.monotonic() + wait
    while True:
        shown = _json(api.get('/v1/clusters/%s' % cluster, headers=HEALER),
                      200)
        if shown['status'].endswith('_COMPLETE') or (
                time.monotonic() > deadline):
            return shown
        time.sleep(0.5)


def healer_reason(unhealthy_nodes=(), api_ok=True):
    """health_status_reason as the auto-healer builds it: a Go
    map[string]string marshalled (keys sorted, compact) with every
    double quote made single."""
    reason = {'updated_at': '2026-12-03 12:18:49.165628688 +0000 UTC '
                            'm=+0.000233699'}
    if unhealthy_nodes:
        reason.update({'%s.EndpointCheck' % n: 'error'
                       for n in unhealthy_nodes})
    elif api_ok:
        reason.update(api='ok', nodes='ok')
    else:
        reason['api'] = 'error'
    text = '{' + ','.join("'%s':'%s'" % (k, reason[k])
                          for k in sorted(reason)) + '}'
    return reason, text


def healer_repair(api, cluster, node_address, server_id):
    """``Repair`` of a worker: its group found by the node's address
    (each group read in turn), resized by name to its own count with the
    server replaced. Returns the group's name."""
    groups = _json(api.get('/v1/clusters/%s/nodegroups' % cluster,
                           headers=HEALER), 200)['nodegroups']
    found = None
    for group in groups:
        shown = _json(api.get('/v1/clusters/%s/nodegroups/%s' % (
            cluster, group['uuid']), headers=HEALER), 200)
        if found is None and node_address in (shown['node_addresses']
                                              or ()):
            found = shown
    assert found is not None, 'no group of %s has %s' % (cluster,
                                                          node_address)
    _json(api.post('/v1/clusters/%s/actions/resize' % cluster,
                   headers=HEALER, json={
                       'node_count': found['node_count'],
                       'nodegroup': found['name'],
                       'nodes_to_remove': [server_id]}), 200, 202)
    return found['name']


def autoscaler_discover(api, cluster, roles=('worker',)):
    """Start-up and ``refreshNodeGroups``: the cluster read by name (its
    uuid), the groups listed, each non-master read; returns {uuid: group}
    of those it would scale (a maximum set, a role it watches)."""
    uuid = _json(api.get('/v1/clusters/%s' % cluster, headers=AUTOSCALER),
                 200)['uuid']
    listed = _json(api.get('/v1/clusters/%s/nodegroups' % cluster,
                           headers=AUTOSCALER), 200)['nodegroups']
    scaled = {}
    for group in listed:
        if group['role'] == 'master':
            continue
        shown = _json(api.get('/v1/clusters/%s/nodegroups/%s' % (
            cluster, group['uuid']), headers=AUTOSCALER), 200)
        # NOTE: the provider's Go struct: these types or nothing decodes.
        assert isinstance(shown['min_node_count'], int)
        assert shown['max_node_count'] is None or isinstance(
            shown['max_node_count'], int)
        assert isinstance(shown['node_count'], int)
        assert all(isinstance(v, str)
                   for v in (shown['labels'] or {}).values())
        assert isinstance(shown['stack_id'], (str, type(None)))
        if shown['max_node_count'] is not None and shown['role'] in roles:
            scaled[shown['uuid']] = shown
    return uuid, scaled


def autoscaler_resize(api, cluster, group_uuid, node_count,
                      nodes_to_remove=None):
    """``updateNodeCount`` or ``deleteNodes``: the resize, keys as Go
    marshals them (sorted). Returns the response."""
    body = {'node_count': node_count, 'nodegroup': group_uuid}
    if nodes_to_remove is not None:
        body['nodes_to_remove'] = list(nodes_to_remove)
    return api.post('/v1/clusters/%s/actions/resize' % cluster,
                    headers=AUTOSCALER, json=dict(sorted(body.items())))
