"""Templates and clusters checked against the cloud, through the real
clients: what they name is looked up in a real Glance, Nova API and
neutron-server (cloud.py, in the session's Keystone) with the user's own
token, and a name that is not there is a 400 naming the field, with
nothing written. The all-in-one, whose requests carry no token and whose
catalog has none of these services, takes the same requests and says in
its log what it did not check.

What is real: magnum-api and a conductor (PostgreSQL, RabbitMQ) behind the
session's Keystone, python-magnumclient 5.0.0's ``openstack coe``, Glance,
Nova's API and neutron-server. No server is booted: the clusters made here
are only accepted (no Heat is configured; they fail in the conductor, which
this module does not look at).
"""

import uuid

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
import pytest

from magnum.tests.functional import cloud as cloud_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.mysql,
              pytest.mark.rabbitmq, pytest.mark.keystone, pytest.mark.cloud,
              pytest.mark.cli]



def _public_key():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


@pytest.fixture(scope='module')
def magnum(keystone, cloud):
    with keystone_mod.magnum_behind(keystone, extra={
            # A cloud's Magnum: templates are Heat's unless they say
            # otherwise.
            'bay': {'default_provisioner': 'heat'},
            'cloud_checks': {'checks': 'image,flavor,keypair,network',
                             'region_name': cloud_mod.REGION}}) as services:
        yield services


@pytest.fixture(scope='module')
def person(keystone, magnum):
    member = keystone_mod.Person(keystone, magnum, 'clouder', ['member'])
    yield member
    member.close()


@pytest.fixture(scope='module')
def osc(person):
    return person.keystone_osc(magnumclient.osc_venv('5.0.0'))


@pytest.fixture(scope='module')
def world(cloud, person, keystone):
    """What the cloud has for the person: (name, id) of each."""
    token = keystone.token_for(person.name, person._password,
                               person.project)
    suffix = uuid.uuid4().hex[:8]
    names = {
        'image': 'ubuntu-2404-%s' % suffix,
        'bare_image': 'no-distro-%s' % suffix,
        'flavor': 'ck.small-%s' % suffix,
        'keypair': 'kp-%s' % suffix,
        'external': 'public-%s' % suffix,
        'fixed': 'private-%s' % suffix,
        'other_fixed': 'other-%s' % suffix,
    }
    made = dict(names)
    made['image_id'] = cloud.glance.create_image(
        names['image'], {'os_distro': 'ubuntu'})
    made['bare_image_id'] = cloud.glance.create_image(names['bare_image'])
    made['flavor_id'] = cloud.nova.create_flavor(names['flavor'], 2048, 2,
                                                 20)
    cloud.nova.create_keypair(token, names['keypair'], _public_key())
    made['external_id'], _ = cloud.neutron.create_external_network(
        names['external'])
    made['fixed_id'], made['subnet_id'] = cloud.neutron.create_network(
        token, names['fixed'], '10.20.0.0/24')
    made['other_fixed_id'], made['other_subnet_id'] = (
        cloud.neutron.create_network(token, names['other_fixed'],
                                     '10.21.0.0/24'))
    return made


def _template_args(world, **changes):
    args = {'--coe': 'kubernetes', '--image': world['image'],
            '--external-network': world['external'],
            '--flavor': world['flavor'], '--master-flavor': world['flavor'],
            '--keypair': world['keypair'],
            '--fixed-network': world['fixed'],
            '--fixed-subnet': world['subnet_id']}
    args.update(changes)
    return [item for pair in args.items() for item in pair
            if pair[1] is not None]


def _templates(person):
    response = person.api.get('/v1/clustertemplates')
    assert response.status_code == 200, response.text
    return sorted(t['uuid'] for t in response.json()['clustertemplates'])


def test_a_template_of_what_the_cloud_has_is_created(osc, world):
    name = processes.unique_name('ct-good')
    created = osc.json('cluster', 'template', 'create', name,
                       *_template_args(world))
    assert created['name'] == name
    # The image's os_distro is the template's distribution.
    assert created['cluster_distro'] == 'ubuntu'
    # By id as well as by name.
    osc.ok('cluster', 'template', 'create', processes.unique_name('ct-ids'),
           *_template_args(world, **{
               '--image': world['image_id'],
               '--external-network': world['external_id'],
               '--flavor': world['flavor_id'],
               '--fixed-network': world['fixed_id']}))


@pytest.mark.parametrize('change, field, words', [
    ({'--image': 'no-such-image'}, 'image_id',
     "image 'no-such-image' was not found in the image service (Glance)"),
    ({'--image': 'BARE'}, 'image_id', 'has no os_distro property'),
    ({'--flavor': 'no.such.flavor'}, 'flavor_id',
     "flavor 'no.such.flavor' was not found in the compute service (Nova)"),
    ({'--master-flavor': 'no.such.flavor'}, 'master_flavor_id',
     "flavor 'no.such.flavor' was not found"),
    ({'--keypair': 'no-such-key'}, 'keypair_id',
     "keypair 'no-such-key' was not found in the compute service (Nova)"),
    ({'--external-network': 'no-such-net'}, 'external_network_id',
     "network 'no-such-net' was not found in the network service "
     "(Neutron)"),
    ({'--external-network': 'FIXED'}, 'external_network_id',
     'is not an external network'),
    ({'--fixed-network': 'no-such-net'}, 'fixed_network',
     "network 'no-such-net' was not found"),
    ({'--fixed-subnet': 'OTHER_SUBNET'}, 'fixed_subnet',
     'is not on the fixed network'),
], ids=['image', 'image-without-os_distro', 'flavor', 'master-flavor',
        'keypair', 'external-network', 'external-network-not-external',
        'fixed-network', 'subnet-of-another-network'])
def test_what_the_cloud_has_not_is_a_400_naming_the_field(
        osc, person, world, change, field, words):
    stand_ins = {'BARE': world['bare_image'], 'FIXED': world['fixed'],
                 'OTHER_SUBNET': world['other_subnet_id']}
    change = {k: stand_ins.get(v, v) for k, v in change.items()}
    before = _templates(person)
    refused = osc.run('cluster', 'template', 'create',
                      processes.unique_name('ct-bad'),
                      *_template_args(world, **change))
    assert refused.returncode != 0, str(refused)
    assert '(HTTP 400)' in refused.stderr, str(refused)
    assert 'Invalid value for %s: ' % field in refused.stderr, str(refused)
    assert words in refused.stderr, str(refused)
    assert _templates(person) == before


def test_a_template_update_is_checked(osc, person, world):
    name = processes.unique_name('ct-update')
    osc.ok('cluster', 'template', 'create', name, *_template_args(world))
    # NOTE: 5.0.0's update takes options (4.x took JSON-patch words).
    refused = osc.run('cluster', 'template', 'update', name, '--image',
                      'no-such-image')
    assert refused.returncode != 0, str(refused)
    assert 'Invalid value for image_id' in refused.stderr, str(refused)
    shown = osc.json('cluster', 'template', 'show', name)
    assert shown['image_id'] == world['image']
    osc.ok('cluster', 'template', 'update', name, '--image',
           world['image_id'])
    assert osc.json('cluster', 'template', 'show', name)[
        'image_id'] == world['image_id']


def test_a_cluster_is_checked_with_its_own_flavor_and_keypair(
        osc, person, world):
    template = processes.unique_name('ct-cluster')
    osc.ok('cluster', 'template', 'create', template, *_template_args(world))
    before = person.api.get('/v1/clusters').json()['clusters']
    refused = osc.run('cluster', 'create', processes.unique_name('c-bad'),
                      '--cluster-template', template, '--flavor',
                      'no.such.flavor')
    assert refused.returncode != 0, str(refused)
    assert '(HTTP 400)' in refused.stderr, str(refused)
    assert ("Invalid value for flavor_id: flavor 'no.such.flavor' was not "
            "found in the compute service (Nova)") in refused.stderr, str(
                refused)
    refused = osc.run('cluster', 'create', processes.unique_name('c-bad'),
                      '--cluster-template', template, '--keypair',
                      'no-such-key')
    assert 'Invalid value for keypair: ' in refused.stderr, str(refused)
    assert person.api.get('/v1/clusters').json()['clusters'] == before
    name = processes.unique_name('c-good')
    accepted = osc.ok('cluster', 'create', name, '--cluster-template',
                      template, '--flavor', world['flavor'], '--keypair',
                      world['keypair'])
    assert 'accepted' in accepted.stdout, str(accepted)

    # A node group's own flavor and image are checked too.
    for option, value, words in (
            ('--flavor', 'no.such.flavor',
             "Invalid value for flavor_id: flavor 'no.such.flavor' was not "
             "found"),
            ('--image', 'no-such-image',
             "Invalid value for image_id: image 'no-such-image' was not "
             "found")):
        refused = osc.run('nodegroup', 'create', name, 'extra', option,
                          value)
        assert refused.returncode != 0, str(refused)
        assert '(HTTP 400)' in refused.stderr, str(refused)
        assert words in refused.stderr, str(refused)


def test_the_all_in_one_takes_the_same_and_says_what_it_skipped():
    with processes.deployment('all') as magnum:
        api = processes.Client(magnum)
        response = api.post('/v1/clustertemplates', json={
            'name': 'unchecked', 'coe': 'kubernetes',
            # NOTE: the all-in-one's default provisioner is static, which
            # names nothing of the cloud.
            'labels': {'provisioner': 'heat'},
            'image_id': 'no-such-image', 'flavor_id': 'no.such.flavor',
            'keypair_id': 'no-such-key',
            'external_network_id': 'no-such-net'})
        assert response.status_code == 201, response.text
        response = api.post('/v1/clusters', json={
            'name': 'unchecked', 'flavor_id': 'no.such.flavor',
            'cluster_template_id': response.json()['uuid']})
        assert response.status_code == 202, response.text
        logs = magnum.logs(lines=400)
    assert logs.count('are not checked against the cloud') == 1, logs
    assert ('requests carry no Keystone token (checks flavor, image, '
            'keypair, network)') in logs, logs
