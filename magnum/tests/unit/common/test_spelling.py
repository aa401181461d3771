"""The "did you mean" hints: a close name or none, never a misleading one."""

import testtools

from magnum.common import spelling


class TestClosest(testtools.TestCase):

    def test_a_close_name_is_suggested(self):
        for typo, known, expected in (
                ('bay_uid', ('name', 'image', 'bay_uuid'), 'bay_uuid'),
                ('docker_ulr', ('docker_url',), 'docker_url'),
                ('Node_Count', ('node_count', 'name'), 'node_count'),
                ('cluster_template', ('cluster_template_id',),
                 'cluster_template_id')):
            self.assertEqual(expected, spelling.closest(typo, known), typo)

    def test_no_suggestion_without_a_close_name(self):
        for typo, known in (('uuid', ('bay_uuid', 'name')),
                            ('nosuchfield', ('name', 'image')),
                            ('kube_tag', ('kube_api_url',)),
                            ('name', ('name',)),
                            ('x', ())):
            self.assertIsNone(spelling.closest(typo, known), typo)

    def test_did_you_mean(self):
        self.assertEqual("; did you mean 'bay_uuid'?",
                         spelling.did_you_mean('bay_uid', ['bay_uuid']))
        self.assertEqual('', spelling.did_you_mean('zzz', ['bay_uuid']))

