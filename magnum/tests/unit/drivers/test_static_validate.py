"""The static provisioner refuses a bay (a 400) whose template lacks the
endpoint label it registers, before anything is written."""

import types

import testtools

from magnum.common import exception
from magnum.drivers import static


def _template(coe, labels, name='t'):
    return types.SimpleNamespace(coe=coe, labels=labels, name=name,
                                 uuid='5d12f6fd-a196-4bf0-ae4c-1f639a523a52')


class TestValidate(testtools.TestCase):

    def refused(self, coe, labels, name='t'):
        error = self.assertRaises(
            exception.InvalidParameterValue,
            static.StaticProvisioner().validate, _template(coe, labels,
                                                           name), {})
        self.assertEqual(400, error.code)
        self.assertEqual('baymodel_id', error.kwargs['field'])
        return str(error)

    def test_each_coe_needs_its_label(self):
        for coe, label in (('docker', 'docker_url'), ('swarm', 'docker_url'),
                           ('kubernetes', 'kube_api_url')):
            for labels in (None, {}, {'provisioner': 'static'}):
                self.assertIn('has no label %s,' % label,
                              self.refused(coe, labels), (coe, labels))

    def test_with_its_label_the_bay_is_accepted(self):
        provisioner = static.StaticProvisioner()
        provisioner.validate(_template('docker', {'docker_url':
                                                  'tcp://d:2375'}), {})
        provisioner.validate(_template('kubernetes', {'kube_api_url':
                                                      'https://k:6443'}), {})

    def test_an_empty_label_is_named_empty(self):
        self.assertIn('template t has an empty label docker_url',
                      self.refused('docker', {'docker_url': ''}))

    def test_unnamed_template_is_named_by_uuid(self):
        self.assertIn('template 5d12f6fd-a196-4bf0-ae4c-1f639a523a52 has',
                      self.refused('docker', {}, name=None))

    def test_a_misspelled_label_gets_a_hint(self):
        self.assertTrue(self.refused(
            'kubernetes', {'kube_api_ulr': 'https://k:6443',
                           'kube_tag': 'v1.30'}).endswith(
            'It has a label kube_api_ulr: did you mean kube_api_url?'))

    def test_the_other_coes_label_is_explained(self):
        self.assertTrue(self.refused(
            'kubernetes', {'docker_url': 'tcp://d:2375'}).endswith(
            'Its label docker_url is the endpoint of docker and swarm '
            'bays.'))
