"""Manifests: parsing, kinds, and which manifest_urls are refused."""

import json

from magnum.common import exception
from magnum.conductor import manifest
from magnum.tests import base

POD_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx
"""


class TestParse(base.TestCase):

    def test_yaml_and_json_give_the_same_object(self):
        from_yaml = manifest.parse_text(POD_YAML)
        self.assertEqual(from_yaml,
                         manifest.parse_text(json.dumps(from_yaml)))
        self.assertEqual('Pod', from_yaml['kind'])

    def test_bad_yaml_is_invalid_naming_the_field(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.parse_text, 'kind: [unclosed\n')
        self.assertEqual(400, e.code)
        self.assertIn('manifest', str(e))
        self.assertIn('YAML', str(e))

    def test_several_documents_are_refused(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.parse_text, POD_YAML + '---\n'
                              + POD_YAML)
        self.assertIn('manifest', str(e))

    def test_yaml_tags_build_no_python_objects(self):
        self.assertRaises(exception.InvalidParameterValue,
                          manifest.parse_text,
                          '!!python/object/apply:os.system ["true"]')

    def test_a_list_is_not_an_object(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.parse_text, '[1, 2]')
        self.assertIn('one object', str(e))

    def test_over_the_limit_is_refused(self):
        self.conf.config(manifest_max_bytes=100, group='kubernetes')
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.parse_text, POD_YAML + '#' * 100)
        self.assertIn('larger than 100 bytes', str(e))

    def test_the_field_named_is_the_one_given(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.parse_text, '{', 'manifest_url')
        self.assertIn('manifest_url', str(e))


class TestKind(base.TestCase):

    def test_matching_kind_passes(self):
        doc = manifest.parse_text(POD_YAML)
        self.assertIs(doc, manifest.check_kind(doc, 'Pod'))

    def test_another_kind_is_refused_naming_both(self):
        doc = manifest.parse_text(POD_YAML)
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.check_kind, doc, 'Service')
        self.assertIn("'Pod'", str(e))
        self.assertIn("'Service'", str(e))

    def test_no_name_is_refused(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.check_kind,
                              {'kind': 'Pod', 'metadata': {}}, 'Pod')
        self.assertIn('metadata.name', str(e))

    def test_other_api_version_is_refused(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.check_kind,
                              {'kind': 'Pod', 'apiVersion': 'apps/v1',
                               'metadata': {'name': 'x'}}, 'Pod')
        self.assertIn('apps/v1', str(e))


class TestURLRules(base.TestCase):
    """Refusals happen before any connection: no network is needed."""

    def _refused(self, url, *words):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.fetch, url)
        self.assertEqual(400, e.code)
        self.assertIn('manifest_url', str(e))
        for word in words:
            self.assertIn(word, str(e))

    def test_loopback_is_refused_by_default(self):
        self._refused('http://127.0.0.1:8080/pod.yaml', 'loopback')

    def test_localhost_by_name_is_refused_by_default(self):
        self._refused('http://localhost/pod.yaml', 'localhost', 'loopback')

    def test_ipv6_loopback_is_refused(self):
        self._refused('http://[::1]/pod.yaml', 'loopback')

    def test_metadata_service_is_refused(self):
        self._refused('http://169.254.169.254/latest/', 'link-local')

    def test_private_ranges_are_refused(self):
        for url in ('http://10.0.0.1/', 'https://192.168.1.1/',
                    'http://172.16.0.1/'):
            self._refused(url, 'private')

    def test_ipv4_mapped_loopback_is_refused(self):
        self._refused('http://[::ffff:127.0.0.1]/x', 'loopback')

    def test_other_schemes_are_refused(self):
        for url in ('file:///etc/passwd', 'ftp://example.com/x',
                    'gopher://example.com/'):
            self._refused(url, 'http or https')

    def test_credentials_in_the_url_are_refused(self):
        self._refused('http://user:pw@example.com/x', 'credentials')

    def test_allowed_network_lets_loopback_through(self):
        self.conf.config(manifest_allowed_networks=['127.0.0.1/32'],
                         group='kubernetes')
        scheme, host, port, path, address = manifest._resolve(
            'http://127.0.0.1:8080/a/pod.yaml?x=1')
        self.assertEqual(('http', '127.0.0.1', 8080, '/a/pod.yaml?x=1',
                          '127.0.0.1'), (scheme, host, port, path, address))
        # ... but only that network.
        self._refused('http://127.0.0.2/pod.yaml', '127.0.0.2')

    def test_global_address_passes_the_rules(self):
        self.assertEqual('8.8.8.8',
                         manifest._resolve('https://8.8.8.8/x')[4])

    def test_load_needs_the_kind(self):
        e = self.assertRaises(exception.InvalidParameterValue,
                              manifest.load, 'Service', manifest=POD_YAML)
        self.assertIn("'Pod'", str(e))
