"""The test tooling's real Glance, Nova API and neutron-server (cloud.py).

The session's ``cloud`` (``cloud.cloud``) behind the session's Keystone:
what the admin makes through the fixtures' helpers, project members see
(or do not) through the services' own APIs and policies, with their own
tokens. No assertion message ever holds a token or a password.
"""

import pytest
import requests

from magnum.tests.functional import cloud as cloud_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.mysql,
              pytest.mark.rabbitmq, pytest.mark.keystone, pytest.mark.cloud]

PUBLIC_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsab'
              'gH5C9okWi0dh2l9GKJl magnum-test')


@pytest.fixture(scope='module')
def members(keystone):
    return (keystone_mod.Person(keystone, None, 'a', ['member']),
            keystone_mod.Person(keystone, None, 'b', ['member']))


def test_catalog_names_the_three(cloud, keystone, members):
    a, _ = members
    catalog = requests.get(keystone.url + '/auth/catalog', timeout=30,
                           headers={'X-Auth-Token': a.token}).json()
    urls = {service['type']: {e['url'] for e in service['endpoints']
                              if e.get('region_id') == cloud_mod.REGION}
            for service in catalog['catalog']}
    assert urls['image'] == {cloud.glance.url}
    assert urls['compute'] == {cloud.nova.url}
    assert urls['network'] == {cloud.neutron.url}
    assert cloud.nova.url.endswith('/v2.1')


def test_image_keeps_its_properties(cloud, members):
    a, b = members
    name = processes.unique_name('fedora-coreos')
    image = cloud.glance.create_image(name, {'os_distro': 'fedora-coreos'})
    shown = cloud.glance.api('GET', '/v2/images/%s' % image, token=a.token)
    assert (shown['name'], shown['os_distro'], shown['visibility'],
            shown['status']) == (name, 'fedora-coreos', 'public', 'queued')
    # A private image of a's project: a sees it, b does not.
    private = cloud.glance.create_image(
        processes.unique_name('private'), {'os_distro': 'ubuntu'},
        visibility='private', owner=a.project_id)
    assert cloud.glance.api('GET', '/v2/images/%s' % private,
                            token=a.token)['owner'] == a.project_id
    cloud.glance.api('GET', '/v2/images/%s' % private, token=b.token,
                     expect=(404,))
    listed = cloud.glance.api('GET', '/v2/images', token=a.token,
                              params={'os_distro': 'fedora-coreos'})
    assert image in {i['id'] for i in listed['images']}


def test_member_lists_the_admins_flavor(cloud, members):
    a, _ = members
    name = processes.unique_name('m1')
    flavor = cloud.nova.create_flavor(name, 2048, 2, 20)
    listed = cloud.nova.api('GET', '/flavors/detail', token=a.token)
    found = [f for f in listed['flavors'] if f['id'] == flavor]
    assert [(f['name'], f['ram'], f['vcpus'], f['disk'])
            for f in found] == [(name, 2048, 2, 20)]
    # Only the admin makes flavors.
    cloud.nova.api('POST', '/flavors', token=a.token, expect=(403,), json={
        'flavor': {'name': name + '-2', 'ram': 1, 'vcpus': 1, 'disk': 1}})


def test_keypair_is_its_users_alone(cloud, members):
    a, b = members
    name = processes.unique_name('key')
    made = cloud.nova.create_keypair(a.token, name, PUBLIC_KEY)
    assert made['user_id'] == a.user_id
    shown = cloud.nova.api('GET', '/os-keypairs/%s' % name, token=a.token)
    assert shown['keypair']['public_key'] == PUBLIC_KEY
    assert name in {k['keypair']['name'] for k in cloud.nova.api(
        'GET', '/os-keypairs', token=a.token)['keypairs']}
    cloud.nova.api('GET', '/os-keypairs/%s' % name, token=b.token,
                   expect=(404,))
    assert name not in {k['keypair']['name'] for k in cloud.nova.api(
        'GET', '/os-keypairs', token=b.token)['keypairs']}


@pytest.fixture(scope='module')
def external_network(cloud):
    return cloud.neutron.create_external_network(
        processes.unique_name('public'))


def test_external_network(cloud, members, external_network):
    a, _ = members
    network, subnet = external_network
    shown = cloud.neutron.api('GET', '/v2.0/networks/%s' % network)['network']
    assert shown['router:external'] is True
    assert shown['provider:network_type'] == 'vxlan'
    assert shown['subnets'] == [subnet]
    # Members see it (to pick it as a gateway), not its provider details.
    seen = cloud.neutron.api('GET', '/v2.0/networks/%s' % network,
                             token=a.token)['network']
    assert seen['router:external'] is True


def test_members_network_router_and_floating_ip(cloud, members,
                                                external_network):
    a, b = members
    public, _ = external_network
    network, subnet = cloud.neutron.create_network(
        a.token, processes.unique_name('private'), '10.1.0.0/24')
    shown = cloud.neutron.api('GET', '/v2.0/networks/%s' % network,
                              token=a.token)['network']
    assert (shown['project_id'], shown['subnets']) == (a.project_id,
                                                      [subnet])
    assert cloud.neutron.api('GET', '/v2.0/subnets/%s' % subnet,
                             token=a.token)['subnet']['cidr'] == '10.1.0.0/24'
    cloud.neutron.api('GET', '/v2.0/networks/%s' % network, token=b.token,
                      expect=(404,))

    router = cloud.neutron.create_router(
        a.token, processes.unique_name('router'), public, subnet)
    gateway = cloud.neutron.api('GET', '/v2.0/routers/%s' % router,
                                token=a.token)['router'][
                                    'external_gateway_info']
    assert gateway['network_id'] == public
    group = cloud.neutron.api('POST', '/v2.0/security-groups', token=a.token,
                              json={'security_group': {
                                  'name': processes.unique_name('sg')}})[
                                      'security_group']
    cloud.neutron.api('POST', '/v2.0/security-group-rules', token=a.token,
                      json={'security_group_rule': {
                          'security_group_id': group['id'],
                          'direction': 'ingress', 'protocol': 'tcp',
                          'port_range_min': 22, 'port_range_max': 22}})
    port = cloud.neutron.api('POST', '/v2.0/ports', token=a.token, json={
        'port': {'network_id': network,
                 'security_groups': [group['id']]}})['port']
    floating = cloud.neutron.api('POST', '/v2.0/floatingips', token=a.token,
                                 json={'floatingip': {
                                     'floating_network_id': public,
                                     'port_id': port['id']}})['floatingip']
    assert (floating['router_id'], floating['fixed_ip_address']) == (
        router, port['fixed_ips'][0]['ip_address'])
