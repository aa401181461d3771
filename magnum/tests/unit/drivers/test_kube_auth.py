"""Magnum's credentials for a bay's Kubernetes API: the kubeconfig lookup.
"""

import os

import fixtures

from magnum.drivers import kube_auth
from magnum.tests import base

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "https://10.0.0.1:6443/", certificate-authority: ca.crt}
- name: two
  cluster: {server: "https://k8s.example.com"}
contexts:
- name: one
  context: {cluster: one, user: token-user}
- name: two
  context: {cluster: two, user: cert-user}
current-context: one
users:
- name: token-user
  user: {tokenFile: token}
- name: cert-user
  user: {client-certificate: client.crt, client-key: client.key}
"""


class TestKubeconfig(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        for name, text in (('kubeconfig', KUBECONFIG),
                           ('token', 'sekrit-token\n'),
                           ('ca.crt', 'x'), ('client.crt', 'x'),
                           ('client.key', 'x')):
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(text)
        self.conf.config(kubeconfig=os.path.join(self.dir, 'kubeconfig'),
                         group='kubernetes')

    def test_token_file_for_the_endpoint_without_its_newline(self):
        config = kube_auth.configuration('https://10.0.0.1:6443')
        self.assertEqual('Bearer sekrit-token',
                         config.auth_settings()['BearerToken']['value'])
        self.assertEqual(os.path.join(self.dir, 'ca.crt'),
                         config.ssl_ca_cert)
        self.assertTrue(config.verify_ssl)
        self.assertEqual('https://10.0.0.1:6443', config.host)

    def test_client_certificate_slots_in(self):
        config = kube_auth.configuration('https://k8s.example.com:443/')
        self.assertEqual(os.path.join(self.dir, 'client.crt'),
                         config.cert_file)
        self.assertEqual(os.path.join(self.dir, 'client.key'),
                         config.key_file)
        self.assertEqual({}, config.auth_settings())
        # The bay's own address is the host, not the kubeconfig's spelling.
        self.assertEqual('https://k8s.example.com:443', config.host)

    def test_other_endpoints_get_no_credentials(self):
        for url in ('https://10.0.0.1:6444', 'http://10.0.0.1:6443',
                    'https://10.0.0.2:6443'):
            config = kube_auth.configuration(url)
            self.assertEqual({}, config.auth_settings(), url)
            self.assertIsNone(config.cert_file)

    def test_label_turns_verification_off_whatever_the_source(self):
        config = kube_auth.configuration('https://10.0.0.1:6443',
                                         verify=False)
        self.assertFalse(config.verify_ssl)
        self.assertIn('BearerToken', config.auth_settings())

    def test_an_unreadable_file_means_no_credentials_and_no_contents(self):
        path = os.path.join(self.dir, 'broken')
        with open(path, 'w') as f:
            f.write('users: [sekrit-token\n')
        self.conf.config(kubeconfig=path, group='kubernetes')
        log = self.useFixture(fixtures.FakeLogger())
        config = kube_auth.configuration('https://10.0.0.1:6443')
        self.assertEqual({}, config.auth_settings())
        self.assertIn(path, log.output)
        self.assertNotIn('sekrit', log.output)

    def test_no_kubeconfig_no_credentials(self):
        self.conf.config(kubeconfig=None, group='kubernetes')
        config = kube_auth.configuration('https://10.0.0.1:6443')
        self.assertEqual({}, config.auth_settings())
