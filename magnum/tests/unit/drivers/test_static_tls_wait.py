"""A static bay whose endpoint is to serve the bay's certificates waits for
it: an endpoint that still presents another certificate (one its operator
had before the bay's CA was made), refuses connections or does not answer
keeps the create CREATE_IN_PROGRESS, saying what it waits for, until it
presents the bay's server certificate or bay_create_timeout ends it.

The endpoint is a real HTTPS server on 127.0.0.1 (a free port) that
answers as a Kubernetes API server and a Docker Engine would; the test
swaps the certificate it presents. The conductor's own handler runs the
create and the reconcile passes.
"""

import datetime
import http.server
import json
import os
import socket
import ssl
import threading

import fixtures
from oslo_utils import timeutils
from oslo_utils import uuidutils

from magnum.common import x509
from magnum.conductor.handlers import bay as bay_handler
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.drivers import base as drivers
from magnum.drivers import static
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.tests import base
from magnum.tests.unit import utils

# What the endpoint answers: /version for both a Kubernetes API server and
# a Docker Engine (each reads its own fields), the node list, /info.
VERSION = {'major': '1', 'minor': '20', 'gitVersion': 'v1.20.15',
           'gitCommit': '8f1e5bf0', 'gitTreeState': 'clean',
           'buildDate': '2022-01-19T17:23:36Z', 'goVersion': 'go1.15.15',
           'compiler': 'gc', 'platform': 'linux/amd64',
           'ApiVersion': '1.41', 'Version': '20.10.24'}
NODES = {'kind': 'NodeList', 'apiVersion': 'v1', 'metadata': {},
         'items': [{'metadata': {'name': 'node-1'},
                    'status': {'addresses': [{'type': 'InternalIP',
                                              'address': '10.0.0.5'}]}}]}
INFO = {'Name': 'engine-1', 'Swarm': {}}
# Words of a Python exception's name or repr, which a user never needs.
TYPE_NAMES = ('SSLError', 'ApiException', 'MaxRetryError', 'Exception',
              'ConnectionPool', 'object at 0x', 'Error(')


class _Handler(http.server.BaseHTTPRequestHandler):

    def do_GET(self):
        path = self.path.split('?')[0].rstrip('/')
        status = self.server.status
        if path.endswith('/version'):
            body = VERSION
        elif path == '/api/v1/nodes':
            body = NODES
        elif path.endswith('/info'):
            body = INFO
        else:
            status, body = 404, {'message': 'not found'}
        if status != 200:
            body = {'kind': 'Status', 'code': status, 'message': 'refused'}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class _TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    status = 200
    tls = None   # the ssl.SSLContext of the next connection

    def get_request(self):
        sock, address = super().get_request()
        # NOTE: the handshake on the connection's own thread: a client
        # that gives up must not stop the server accepting.
        return self.tls.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        pass  # a client refusing our certificate is what the tests do


class Endpoint(fixtures.Fixture):
    """An HTTPS endpoint on 127.0.0.1 presenting the certificate of
    ``present()``'s last call."""

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.server = _TLSServer(('127.0.0.1', 0), _Handler)
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(thread.join, 5)
        self.addCleanup(self.server.shutdown)

    def present(self, cert_file, key_file, client_ca_file=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        if client_ca_file:
            # NOTE: as kube-apiserver --client-ca-file and dockerd
            # --tlsverify: only the bay's client certificates get in.
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=client_ca_file)
        self.server.tls = context

    def present_foreign(self, bay_uuid):
        """A certificate naming the bay's server and 127.0.0.1, as the
        bay's own would, but from another CA: the endpoint's older one."""
        ca, ca_key = x509.make_ca(uuidutils.generate_uuid(), 1)
        key = x509.new_key()
        cert = x509.issue(ca, ca_key, key.public_key(),
                          x509.name(x509.server_name(bay_uuid), 'Magnum'),
                          x509.SERVER, 1,
                          hosts=[x509.server_name(bay_uuid), '127.0.0.1'])
        cert_file = os.path.join(self.dir, 'old.crt')
        key_file = os.path.join(self.dir, 'old.key')
        with open(cert_file, 'w') as f:
            f.write(x509.cert_pem(cert))
        with open(key_file, 'w') as f:
            f.write(x509.key_pem(key))
        self.present(cert_file, key_file)

    def present_bays(self, bay_dir):
        """The files the conductor delivered for the bay."""
        self.present(os.path.join(bay_dir, 'server.crt'),
                     os.path.join(bay_dir, 'server.key'),
                     os.path.join(bay_dir, 'ca.crt'))


def _closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class StaticTLSTestCase(base.TestCase):

    coe = 'kubernetes'
    scheme = 'https'

    def setUp(self):
        super().setUp()
        self.cert_dir = self.useFixture(fixtures.TempDir()).path
        self.conf.config(certificate_dir=self.cert_dir, group='static')
        self.provisioner = static.StaticProvisioner()
        drivers._LOADED['static'] = self.provisioner
        self.addCleanup(drivers._LOADED.pop, 'static', None)
        self.handler = bay_handler.BayHandler('test-host')
        self.endpoint = self.useFixture(Endpoint())

    def make_bay(self, url=None, **values):
        url = url or '%s://127.0.0.1:%d' % (self.scheme, self.endpoint.port)
        self.url = url
        key = 'kube_api_url' if self.coe == 'kubernetes' else 'docker_url'
        self.baymodel = utils.baymodel(
            self.context, coe=self.coe,
            labels={'provisioner': 'static', key: url})
        self.bay = utils.bay(self.context, self.baymodel,
                             provisioner='static', **values)
        self.action = action_obj.Action.open_of(self.context, self.bay.uuid)
        self.bay_dir = os.path.join(self.cert_dir, self.bay.uuid)

    def create(self):
        """The conductor gets the create's message."""
        self.handler.action_run(self.context, self.bay.uuid,
                                self.action.uuid)
        return self.reload()

    def reload(self):
        return db_bays.get_bay_by_uuid_unscoped(self.bay.uuid)

    def action_status(self):
        return db_actions.get(self.action.uuid).status

    def assertWaiting(self, row, *words,
                      awaited="present a certificate signed by the bay's "
                              "CA"):
        self.assertEqual(bay_obj.CREATE_IN_PROGRESS, row.status,
                         row.status_reason)
        self.assertEqual('IN_PROGRESS', self.action_status())
        self.assertIn('Waiting for %s to %s: ' % (self.url, awaited),
                      row.status_reason)
        for word in words:
            self.assertIn(word, row.status_reason)
        for name in TYPE_NAMES:
            self.assertNotIn(name, row.status_reason)

    def time_out(self, minutes=10):
        long_ago = timeutils.utcnow() - datetime.timedelta(
            minutes=minutes + 1)
        db_bays.update_bay(self.bay.uuid, {'bay_create_timeout': minutes,
                                           'created_at': long_ago})


class TestKubernetes(StaticTLSTestCase):

    def test_an_endpoint_with_an_older_certificate_keeps_the_create_waiting(
            self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        row = self.create()
        # The bay's certificates were delivered, and the endpoint's own
        # certificate is not one of its CA's: not ready yet, not failed.
        self.assertTrue(os.path.exists(os.path.join(self.bay_dir,
                                                    'server.crt')))
        self.assertWaiting(row, 'certificate verify failed')
        # Asked again on each reconcile pass: still waiting.
        self.handler.reconcile_bays()
        self.assertWaiting(self.reload(), 'certificate verify failed')

        # The operator points the endpoint at the delivered files.
        self.endpoint.present_bays(self.bay_dir)
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_COMPLETE, row.status,
                         row.status_reason)
        self.assertEqual('COMPLETE', self.action_status())
        self.assertEqual(self.url, row.api_address)
        self.assertEqual(['10.0.0.5'], row.node_addresses)
        self.assertEqual(['127.0.0.1'], row.master_addresses)
        self.assertEqual('HEALTHY', row.health_status)

    def test_the_timeout_fails_the_create_with_what_it_waited_for(self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.assertWaiting(self.create())
        self.time_out(10)
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertEqual('FAILED', self.action_status())
        self.assertIn('timed out after 10 minute', row.status_reason)
        self.assertIn(self.url, row.status_reason)
        self.assertIn("present a certificate signed by the bay's CA",
                      row.status_reason)
        self.assertIn('certificate verify failed', row.status_reason)
        for name in TYPE_NAMES:
            self.assertNotIn(name, row.status_reason)

    def test_an_endpoint_presenting_the_bays_certificate_at_the_deadline_is_complete(  # noqa: E501
            self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.assertWaiting(self.create())
        self.endpoint.present_bays(self.bay_dir)
        self.time_out(10)
        self.handler.reconcile_bays()
        self.assertEqual(bay_obj.CREATE_COMPLETE, self.reload().status)

    def test_a_zero_timeout_waits_on(self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.create()
        self.time_out(0)
        self.handler.reconcile_bays()
        self.assertWaiting(self.reload())

    def test_a_lost_create_times_out_too(self):
        self.make_bay()
        self.time_out(10)
        self.handler.reconcile_bays()   # the create's message never came
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('timed out after 10 minute', row.status_reason)

    def test_an_endpoint_not_trusting_the_bays_client_certificate_waits(
            self):
        # The bay's server certificate, but the endpoint's older client CA
        # (--client-ca-file not changed yet): TLS refuses Magnum.
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.create()
        self.endpoint.present(os.path.join(self.bay_dir, 'server.crt'),
                              os.path.join(self.bay_dir, 'server.key'),
                              os.path.join(self.endpoint.dir, 'old.crt'))
        # NOTE: TLS 1.2, where the refusal comes within the handshake; with
        # 1.3 it may come after it, and read as the connection's end.
        self.endpoint.server.tls.maximum_version = ssl.TLSVersion.TLSv1_2
        self.handler.reconcile_bays()
        self.assertWaiting(self.reload(), 'TLS failed: tlsv1 alert unknown ca',
                           awaited="accept the client certificate of the "
                                   "bay's CA")

    def test_a_closed_port_keeps_the_create_waiting(self):
        self.make_bay(url='https://127.0.0.1:%d' % _closed_port())
        self.assertWaiting(self.create(), 'connection refused')

    def test_a_refusal_of_the_bays_client_certificate_waits(self):
        # NOTE: RBAC not granted yet (doc/source/admin/certificates.rst).
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.create()
        self.endpoint.present_bays(self.bay_dir)
        self.endpoint.server.status = 403
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_IN_PROGRESS, row.status)
        self.assertIn('user "magnum"', row.status_reason)
        self.endpoint.server.status = 200
        self.handler.reconcile_bays()
        self.assertEqual(bay_obj.CREATE_COMPLETE, self.reload().status)

    def test_another_http_error_of_the_bays_endpoint_is_final(self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.create()
        self.endpoint.present_bays(self.bay_dir)
        self.endpoint.server.status = 404
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('404', row.status_reason)

    def test_a_malformed_url_fails_at_once(self):
        self.make_bay(url='https://127.0.0.1:99999')
        row = self.create()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('https://127.0.0.1:99999', row.status_reason)

    def test_without_the_bays_certificates_a_foreign_one_is_final(self):
        # NOTE: no [static] certificate_dir: the endpoint never serves the
        # bay's certificates, so there is nothing to wait for.
        self.conf.config(certificate_dir=None, group='static')
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        row = self.create()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', row.status_reason)


class TestDocker(StaticTLSTestCase):

    coe = 'docker'
    scheme = 'tcp'

    def test_an_engine_with_an_older_certificate_keeps_the_create_waiting(
            self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.assertWaiting(self.create(), 'certificate verify failed')
        self.endpoint.present_bays(self.bay_dir)
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_COMPLETE, row.status,
                         row.status_reason)
        self.assertEqual(self.url, row.api_address)
        self.assertEqual(['127.0.0.1'], row.node_addresses)

    def test_the_timeout_fails_the_create_with_what_it_waited_for(self):
        self.make_bay()
        self.endpoint.present_foreign(self.bay.uuid)
        self.create()
        self.time_out(10)
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('timed out after 10 minute', row.status_reason)
        self.assertIn('certificate verify failed', row.status_reason)

    def test_a_closed_port_keeps_the_create_waiting(self):
        self.make_bay(url='tcp://127.0.0.1:%d' % _closed_port())
        self.assertWaiting(self.create(), 'connection refused')

    def test_a_malformed_url_fails_at_once(self):
        self.make_bay(url='tcp://127.0.0.1:99999')
        row = self.create()
        self.assertEqual(bay_obj.CREATE_FAILED, row.status)
        self.assertIn('tcp://127.0.0.1:99999', row.status_reason)
