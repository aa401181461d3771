"""``/v1/certificates`` and ``/v1/bays/<ident>/config`` through the whole
API, with the conductor's certificate handler called in process.
"""

import base64
import os
from unittest import mock

from cryptography import x509 as cx509
import fixtures
import yaml

from magnum.common import x509
from magnum.conductor.handlers import bay as bay_handler
from magnum.conductor.handlers import certificate as cert_handler
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.db import certificates as db_certificates
from magnum.drivers import kube_auth
from magnum.objects import bay as bay_obj
from magnum.objects import bay_tls
from magnum.tests.unit.api import base
from magnum.tests.unit import utils

PROJECT_B = {'X-Project-Id': 'project-b', 'X-User-Id': 'user-b'}


def _csr(cn='me'):
    from cryptography.hazmat.primitives import serialization
    return x509.make_csr(x509.new_key(), x509.name(cn)).public_bytes(
        serialization.Encoding.PEM).decode()


class TestCertificates(base.APITestCase):

    def setUp(self):
        super().setUp()
        handler = cert_handler.CertificateHandler('test-host')
        for name in ('ca_sign', 'ca_rotate', 'bay_config'):
            method = getattr(handler, name)
            self.mock_out('magnum.conductor.api.ConductorAPI.%s' % name,
                          side_effect=lambda ctx, *a, _m=method, **k: _m(
                              ctx, *a, **k), autospec=False)
        self.baymodel = utils.baymodel(self.context, coe='kubernetes')
        self.bay = utils.bay(self.context, self.baymodel)
        bay_handler.BayHandler('test-host').bay_changed(self.context,
                                                       self.bay)

    def test_create_makes_a_ca_with_encrypted_keys(self):
        row = db_certificates.get_bay_certificate(self.bay.uuid)
        for column in ('ca_key', 'server_key', 'client_key'):
            self.assertTrue(row._mapping[column].startswith('fernet:'))
        self.assertFalse(row.endpoint_tls)  # the fake provisioner says no

    def test_tls_disabled_bay_has_no_ca(self):
        model = utils.baymodel(self.context, name='plain', tls_disabled=True)
        bay = utils.bay(self.context, model, name='plain')
        bay_handler.BayHandler('test-host').bay_changed(self.context, bay)
        self.assertIsNone(db_certificates.get_bay_certificate(bay.uuid))
        response = self.get('/v1/certificates/%s' % bay.uuid)
        self.assertEqual(404, response.status_int)
        self.assertIn('tls_disabled', self.fault(response))

    def test_show_returns_the_ca_and_no_key(self):
        response = self.get('/v1/certificates/%s' % self.bay.name)
        self.assertEqual(200, response.status_int)
        self.assertIn('BEGIN CERTIFICATE', response.json['pem'])
        self.assertNotIn('PRIVATE KEY', response.text)
        self.assertEqual(self.bay.uuid, response.json['cluster_uuid'])

    def test_sign_is_201_with_pem(self):
        for field in ('bay_uuid', 'cluster_uuid'):
            response = self.post('/v1/certificates',
                                 {field: self.bay.uuid, 'csr': _csr()})
            self.assertEqual(201, response.status_int, response.text)
            self.assertIn('BEGIN CERTIFICATE', response.json['pem'])

    def test_bad_csr_is_400_naming_csr_and_changes_nothing(self):
        before = db_certificates.get_bay_certificate(self.bay.uuid)
        response = self.post('/v1/certificates', {
            'bay_uuid': self.bay.uuid,
            'csr': x509.key_pem(x509.new_key())})
        self.assertEqual(400, response.status_int)
        self.assertIn('csr', self.fault(response))
        self.assertNotIn('PRIVATE KEY-----', response.text)
        self.assertEqual(before,
                         db_certificates.get_bay_certificate(self.bay.uuid))

    def test_missing_fields_are_400(self):
        response = self.post('/v1/certificates', {'csr': _csr()})
        self.assertEqual(400, response.status_int)
        self.assertIn('bay_uuid', self.fault(response))
        response = self.post('/v1/certificates', {'bay_uuid': self.bay.uuid})
        self.assertEqual(400, response.status_int)
        self.assertIn('csr', self.fault(response))

    def test_another_projects_bay_is_404(self):
        for response in (
                self.get('/v1/certificates/%s' % self.bay.uuid,
                         headers=PROJECT_B),
                self.post('/v1/certificates', {'bay_uuid': self.bay.uuid,
                                               'csr': _csr()},
                          headers=PROJECT_B),
                self.patch('/v1/certificates/%s' % self.bay.uuid, None,
                           headers=PROJECT_B),
                self.get('/v1/bays/%s/config' % self.bay.uuid,
                         headers=PROJECT_B)):
            self.assertEqual(404, response.status_int)

    def test_reader_may_show_but_not_sign(self):
        reader = {'X-Roles': 'reader'}
        self.assertEqual(200, self.get('/v1/certificates/%s' % self.bay.uuid,
                                       headers=reader).status_int)
        self.assertEqual(403, self.post(
            '/v1/certificates', {'bay_uuid': self.bay.uuid, 'csr': _csr()},
            headers=reader).status_int)
        self.assertEqual(403, self.get('/v1/bays/%s/config' % self.bay.uuid,
                                       headers=reader).status_int)

    def test_rotation_the_provisioner_cannot_push_is_400(self):
        before = db_certificates.get_bay_certificate(self.bay.uuid)
        response = self.patch('/v1/certificates/%s' % self.bay.uuid, None)
        self.assertEqual(400, response.status_int)
        self.assertIn('cannot push', self.fault(response))
        self.assertEqual(before,
                         db_certificates.get_bay_certificate(self.bay.uuid))

    def test_bad_csr_is_refused_before_any_conductor(self):
        with mock.patch('magnum.conductor.api.ConductorAPI.ca_sign') as sign:
            for csr in ('', 'not a csr', x509.key_pem(x509.new_key())):
                response = self.post('/v1/certificates', {
                    'cluster_uuid': self.bay.uuid, 'csr': csr})
                self.assertEqual(400, response.status_int, response.text)
                self.assertIn('csr', self.fault(response))
            self.assertFalse(sign.called)

    def test_rotation_of_a_failed_bay_is_409_naming_its_status(self):
        before = db_certificates.get_bay_certificate(self.bay.uuid)
        db_bays.update_bay(self.bay.uuid, {'status': 'CREATE_FAILED'})
        with mock.patch('magnum.conductor.api.ConductorAPI.ca_rotate') as rot:
            response = self.patch('/v1/certificates/%s' % self.bay.uuid,
                                  None)
        self.assertEqual(409, response.status_int, response.text)
        fault = self.fault(response)
        self.assertIn('CREATE_FAILED', fault)
        self.assertIn('CREATE_COMPLETE or UPDATE_COMPLETE', fault)
        self.assertNotIn('wait until', fault)
        self.assertFalse(rot.called)
        self.assertEqual(before,
                         db_certificates.get_bay_certificate(self.bay.uuid))

    def test_rotation_of_a_bay_without_ca_is_404(self):
        model = utils.baymodel(self.context, name='plain', tls_disabled=True)
        bay = utils.bay(self.context, model, name='plain')
        bay_handler.BayHandler('test-host').bay_changed(self.context, bay)
        response = self.patch('/v1/certificates/%s' % bay.uuid, None)
        self.assertEqual(404, response.status_int, response.text)
        self.assertIn('no certificate authority', self.fault(response))

    def test_rotation_gives_a_new_ca(self):
        pushed = []
        self.provisioner.rotate_ca = (
            lambda ctx, bay, model, bundle: pushed.append(bundle))
        before = bay_obj.Bay.ca_cert(self.bay.uuid)
        response = self.patch('/v1/certificates/%s' % self.bay.uuid, None)
        self.assertEqual(202, response.status_int, response.text)
        self.assertNotEqual(before, bay_obj.Bay.ca_cert(self.bay.uuid))
        self.assertEqual(2, pushed[0].generation)
        self.assertNotIn('key', repr(pushed[0]).replace('Bundle', ''))
        # Done inside the call: the action ended with it, the bay unmoved.
        action = db_actions.list_of(self.bay.uuid)[0]
        self.assertEqual(('rotate_ca', 'COMPLETE'),
                         (action.kind, action.status))
        self.assertEqual('CREATE_COMPLETE', db_bays.get_bay_by_uuid_unscoped(
            self.bay.uuid).status)

    def test_a_push_done_in_the_call_that_fails_fails_its_action(self):
        def push(ctx, bay, model, bundle):
            raise RuntimeError('secret detail')
        self.provisioner.rotate_ca = push
        response = self.patch('/v1/certificates/%s' % self.bay.uuid, None)
        self.assertEqual(502, response.status_int, response.text)
        self.assertNotIn('secret detail', self.fault(response))
        action = db_actions.list_of(self.bay.uuid)[0]
        self.assertEqual(('rotate_ca', 'FAILED'),
                         (action.kind, action.status))
        self.assertIn('could not be pushed', action.status_reason)
        self.assertEqual('CREATE_COMPLETE', db_bays.get_bay_by_uuid_unscoped(
            self.bay.uuid).status)

    def _rotating_by_update(self, answer):
        """The provisioner pushes by an update of the bay (heat's way);
        what it saw of the bay's row while it pushed."""
        self.provisioner.rotates_by_update = True
        seen = []

        def push(ctx, bay, model, bundle):
            seen.append(db_bays.get_bay_by_uuid_unscoped(bay.uuid))
            seen.append(db_actions.open_of(bay.uuid))
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.provisioner.rotate_ca = push
        return seen

    def test_rotation_by_an_update_leaves_the_bay_updating(self):
        from magnum.drivers import base as drivers
        seen = self._rotating_by_update(drivers.BayState())
        before = bay_obj.Bay.ca_cert(self.bay.uuid)
        response = self.patch('/v1/certificates/%s' % self.bay.uuid, None)
        self.assertEqual(202, response.status_int, response.text)
        self.assertNotEqual(before, bay_obj.Bay.ca_cert(self.bay.uuid))
        # Written before the push, not yet handed over: a conductor that
        # dies in the push leaves an action that the reconciler redoes.
        self.assertEqual('UPDATE_IN_PROGRESS', seen[0].status)
        self.assertEqual(('rotate_ca', 'PENDING'),
                         (seen[1].kind, seen[1].status))
        row = db_bays.get_bay_by_uuid_unscoped(self.bay.uuid)
        self.assertEqual('UPDATE_IN_PROGRESS', row.status)
        self.assertEqual('Rotating the CA (generation 2).', row.status_reason)
        self.assertEqual('IN_PROGRESS', db_actions.get(seen[1].uuid).status)
        self.assertIsNone(row.reservation)
        # The rotation is the bay's change now: another one waits for it.
        response = self.patch('/v1/certificates/%s' % self.bay.uuid, None)
        self.assertEqual(409, response.status_int, response.text)
        self.assertIn('UPDATE_IN_PROGRESS', self.fault(response))

    def test_rotation_whose_push_fails_fails_the_update_with_a_502(self):
        from magnum.drivers import base as drivers
        for answer, said, reason in (
                (drivers.BayState(status='UPDATE_FAILED',
                                  status_reason='Heat says no'),
                 'Heat says no', 'Heat says no'),
                (RuntimeError('secret detail'), 'RuntimeError',
                 'could not be pushed')):
            db_bays.update_bay(self.bay.uuid, {'status': 'CREATE_COMPLETE'})
            self._rotating_by_update(answer)
            response = self.patch('/v1/certificates/%s' % self.bay.uuid,
                                  None)
            self.assertEqual(502, response.status_int, response.text)
            self.assertIn(said, self.fault(response))
            self.assertNotIn('secret detail', self.fault(response))
            row = db_bays.get_bay_by_uuid_unscoped(self.bay.uuid)
            self.assertEqual('UPDATE_FAILED', row.status)
            self.assertIn(reason, row.status_reason)
            self.assertIsNone(row.reservation)

    def test_config_is_a_kubeconfig_with_a_fresh_key(self):
        response = self.get('/v1/bays/%s/config' % self.bay.uuid)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('no-store', response.headers['Cache-Control'])
        config = yaml.safe_load(response.json['kubeconfig'])
        cluster = config['clusters'][0]['cluster']
        self.assertEqual('tcp://10.0.0.1:2376', cluster['server'])
        self.assertEqual(x509.server_name(self.bay.uuid),
                         cluster['tls-server-name'])
        key = base64.b64decode(
            config['users'][0]['user']['client-key-data']).decode()
        self.assertNotEqual(bay_tls.load(self.bay.uuid).client_key, key)

    def _subject(self, pem):
        cert = x509.load_cert(pem)
        return ([a.value for a in cert.subject.get_attributes_for_oid(
                    cx509.NameOID.COMMON_NAME)],
                [a.value for a in cert.subject.get_attributes_for_oid(
                    cx509.NameOID.ORGANIZATION_NAME)])

    def test_the_conductor_is_the_kubernetes_user_magnum_not_an_admin(self):
        bundle = bay_tls.load(self.bay.uuid)
        self.assertEqual((['magnum'], ['magnum:conductors']),
                         self._subject(bundle.client_cert))

    def test_config_certificate_is_the_caller_in_config_organization(self):
        self.conf.config(config_organization='bay-admins',
                         group='certificates')
        response = self.get('/v1/bays/%s/config' % self.bay.uuid)
        config = yaml.safe_load(response.json['kubeconfig'])
        cert = base64.b64decode(
            config['users'][0]['user']['client-certificate-data']).decode()
        self.assertEqual((['user-a'], ['bay-admins']), self._subject(cert))

    def _endpoint_tls(self):
        db_certificates.update_bay_certificate(self.bay.uuid,
                                               {'endpoint_tls': True})

    def test_the_bays_certificate_goes_before_the_kubeconfig(self):
        dir_ = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(dir_, 'kubeconfig')
        with open(path, 'w') as f:
            f.write('apiVersion: v1\nkind: Config\nclusters:\n- name: c\n'
                    '  cluster: {server: "https://10.0.0.1:6443"}\n'
                    'contexts:\n- name: c\n  context: {cluster: c, user: u}\n'
                    'current-context: c\nusers:\n- name: u\n'
                    '  user: {token: operator-token}\n')
        self.conf.config(kubeconfig=path, group='kubernetes')
        url = 'https://10.0.0.1:6443'
        config = kube_auth.configuration(url, verify=False, bay=self.bay)
        self.assertIn('BearerToken', config.auth_settings())  # no CA yet
        self._endpoint_tls()
        config = kube_auth.configuration(url, verify=False, bay=self.bay)
        self.assertNotIn('BearerToken', config.auth_settings())
        bundle = bay_tls.load(self.bay.uuid)
        with open(config.cert_file) as f:
            self.assertEqual(bundle.client_cert, f.read())
        with open(config.ssl_ca_cert) as f:
            self.assertEqual(bundle.ca_cert, f.read())
        self.assertTrue(config.verify_ssl)  # the bay's CA is always checked
        self.assertEqual(x509.server_name(self.bay.uuid),
                         config.tls_server_name)

    def test_a_static_bay_refused_while_its_ca_is_new_stays_pending(self):
        import kubernetes.client
        from magnum.drivers import static
        self.mock_out('kubernetes.client.VersionApi.get_code',
                      side_effect=kubernetes.client.ApiException(
                          status=403, reason='Forbidden'))
        url = 'https://10.0.0.1:6443'
        # Without the bay's certificates in use, a refusal is final.
        self.assertRaises(static.EndpointError, static._kube_state, url,
                          True, self.bay)
        self._endpoint_tls()
        e = self.assertRaises(static.TLSPending, static._kube_state, url,
                              True, self.bay)
        self.assertIn('user "magnum"', str(e))
