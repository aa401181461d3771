"""What the HTTP server answers without the API: gunicorn's refusals in the
API's error form (magnum/api/server.py), and ``OPTIONS *``."""

import json
import os
import socket
from unittest import mock

from gunicorn import config as gunicorn_config
from gunicorn import glogging
from gunicorn.http import errors as http_errors
from gunicorn.workers import gthread
import testtools
import webob

from magnum.api import server
from magnum.cmd import api as api_cmd


def parse(answer):
    """(status, {lower-case header: value}, body) of raw HTTP/1.1 bytes."""
    head, _, body = answer.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    version, status, _ = lines[0].split(' ', 2)
    assert version == 'HTTP/1.1', lines[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    return int(status), headers, body


def fault(body):
    """The inner fault of an error body, asserting the form."""
    outer = json.loads(body)
    assert set(outer) == {'error_message'}, outer
    inner = json.loads(outer['error_message'])
    assert set(inner) == {'faultstring', 'faultcode', 'debuginfo'}, inner
    return inner


class TestErrorResponse(testtools.TestCase):

    def test_an_answer_in_the_error_form_with_its_request_id(self):
        answer = server.error_response(
            414, 'The request line is longer than 4094 bytes.', 'req-1')
        status, headers, body = parse(answer)
        self.assertEqual(414, status)
        self.assertTrue(answer.startswith(b'HTTP/1.1 414 '), answer)
        self.assertEqual('application/json', headers['content-type'])
        self.assertEqual(str(len(body)), headers['content-length'])
        self.assertEqual('req-1', headers['x-openstack-request-id'])
        self.assertEqual('close', headers['connection'])
        self.assertEqual(
            {'faultstring': 'The request line is longer than 4094 bytes.',
             'faultcode': 'Client', 'debuginfo': None}, fault(body))

    def test_a_500_is_the_server_fault(self):
        _, _, body = parse(server.error_response(500, 'oops', 'req-1'))
        self.assertEqual('Server', fault(body)['faultcode'])


class TestRefusal(testtools.TestCase):

    cfg = gunicorn_config.Config()

    def check(self, exc, status, words):
        got_status, message = server.refusal(exc, self.cfg)
        self.assertEqual(status, got_status)
        self.assertIn(words, message)
        # User words only: never the exception's class or gunicorn's text.
        self.assertNotIn(type(exc).__name__, message)
        self.assertNotIn(str(exc), message)

    def test_a_request_line_too_long_is_414_naming_the_limit(self):
        self.check(http_errors.LimitRequestLine(5014, 4094), 414,
                   'The request line is longer than 4094 bytes.')

    def test_too_many_headers_is_431_naming_the_limit(self):
        self.check(http_errors.LimitRequestHeaders(
            'limit request headers fields'), 431,
            'too many headers: the limit is 100')

    def test_a_header_too_large_is_431_naming_the_limit(self):
        self.check(http_errors.LimitRequestHeaders(
            'limit request headers fields size'), 431,
            'The request headers are too large: a header may be at most '
            '8190 bytes')

    def test_headers_too_large_together_is_431(self):
        self.check(http_errors.LimitRequestHeaders('max buffer headers'),
                   431, 'The request headers are too large.')

    def test_a_request_line_that_is_not_http_is_400(self):
        for exc in (http_errors.InvalidHTTPVersion('HTTP/1.1 garbage'),
                    http_errors.InvalidRequestLine('GET'),
                    http_errors.InvalidRequestMethod('G{T')):
            self.check(exc, 400, 'The request line is not valid HTTP.')

    def test_a_header_that_is_not_http_is_400(self):
        self.check(http_errors.InvalidHeaderName('X Y'), 400,
                   'A request header is not valid HTTP.')

    def test_an_unknown_transfer_coding_is_501(self):
        self.check(http_errors.UnsupportedTransferCoding('gzip'), 501,
                   'Transfer-Encoding is not supported')

    def test_other_parse_errors_are_400(self):
        self.check(http_errors.InvalidProxyLine('PROXY x'), 400,
                   'The request is not valid HTTP.')

    def test_the_server_fault_has_no_message_of_its_own(self):
        for exc in (ValueError('boom'),
                    http_errors.InvalidResponseHeader('X-Bad', 'v\n')):
            self.assertEqual((500, None), server.refusal(exc, self.cfg))

    def test_the_limits_named_are_the_configured_ones(self):
        cfg = gunicorn_config.Config()
        cfg.set('limit_request_line', 1000)
        self.assertEqual(
            (414, 'The request line is longer than 1000 bytes.'),
            server.refusal(http_errors.LimitRequestLine(2000, 1000), cfg))


def _sync_worker(cfg):
    return server.SyncAPIWorker(0, os.getpid(), [], None, 30, cfg,
                                glogging.Logger(cfg))


def _thread_worker(cfg):
    return server.ThreadAPIWorker(0, os.getpid(), [], None, 30, cfg,
                                  glogging.Logger(cfg))


class TestWorkers(testtools.TestCase):
    """gunicorn's own request handling, on one end of a socket pair."""

    def serve(self, make_worker, request, app=None):
        """The raw answer a worker made of ``request``."""
        worker = make_worker(gunicorn_config.Config())
        self.addCleanup(worker.tmp.close)
        worker.wsgi = app
        client, served = socket.socketpair()
        self.addCleanup(client.close)
        client.sendall(request)
        # Nothing more comes: the worker's graceful close need not wait.
        client.shutdown(socket.SHUT_WR)
        address = ('127.0.0.1', 40000)
        if isinstance(worker, gthread.ThreadWorker):
            worker.handle(gthread.TConn(worker.cfg, served, address,
                                        ('127.0.0.1', 9511)))
            served.close()
        else:
            listener = mock.Mock(**{'getsockname.return_value':
                                    ('127.0.0.1', 9511)})
            worker.handle(listener, served, address)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
        return parse(b''.join(chunks))

    def check_refusal(self, make_worker):
        with mock.patch.object(server.LOG, 'warning') as warning:
            status, headers, body = self.serve(
                make_worker, b'GET /v1 HTTP/1.1 garbage\r\nHost: x\r\n\r\n')
        self.assertEqual(400, status)
        self.assertEqual('application/json', headers['content-type'])
        self.assertEqual('The request line is not valid HTTP.',
                         fault(body)['faultstring'])
        request_id = headers['x-openstack-request-id']
        self.assertTrue(request_id.startswith('req-'), request_id)
        # The log line carries the same request id.
        self.assertEqual(request_id,
                         warning.call_args.kwargs['context'].request_id)

    def test_the_sync_worker_refuses_in_the_error_form(self):
        self.check_refusal(_sync_worker)

    def test_the_thread_worker_refuses_in_the_error_form(self):
        self.check_refusal(_thread_worker)

    def test_an_application_crash_is_a_500_in_the_error_form(self):
        def crashing(environ, start_response):
            raise RuntimeError('secret detail')

        for make_worker in (_sync_worker, _thread_worker):
            with mock.patch.object(server.LOG, 'error') as error:
                status, headers, body = self.serve(
                    make_worker, b'GET /v1 HTTP/1.1\r\nHost: x\r\n\r\n',
                    app=crashing)
            self.assertEqual(500, status)
            inner = fault(body)
            self.assertEqual(server.UNEXPECTED, inner['faultstring'])
            self.assertEqual('Server', inner['faultcode'])
            self.assertNotIn(b'secret detail', body)
            self.assertEqual(headers['x-openstack-request-id'],
                             error.call_args.kwargs['context'].request_id)


class TestServerOptions(testtools.TestCase):

    def test_threads_choose_the_thread_worker(self):
        self.assertIs(server.ThreadAPIWorker,
                      api_cmd.server_options(1, 8)['worker_class'])

    def test_one_thread_chooses_the_sync_worker(self):
        self.assertIs(server.SyncAPIWorker,
                      api_cmd.server_options(1, 1)['worker_class'])


class TestPathOnly(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.app = server.PathOnly(webob.Response(body=b'the API'))

    def request(self, method, path):
        request = webob.Request.blank('/', method=method)
        request.environ['PATH_INFO'] = path
        return request.get_response(self.app)

    def test_options_asterisk_asks_about_the_server(self):
        response = self.request('OPTIONS', '*')
        self.assertEqual(200, response.status_int)
        self.assertEqual(server.METHODS, response.headers['Allow'])
        self.assertEqual(b'', response.body)
        self.assertTrue(response.headers['X-OpenStack-Request-Id']
                        .startswith('req-'))

    def test_a_target_that_is_not_a_path_is_400(self):
        response = self.request('CONNECT', '443')
        self.assertEqual(400, response.status_int)
        self.assertIn('must be a path', fault(response.body)['faultstring'])
        self.assertTrue(response.headers['X-OpenStack-Request-Id']
                        .startswith('req-'))

    def test_a_path_reaches_the_api(self):
        for path in ('/', '/v1/bays', ''):
            self.assertEqual(b'the API', self.request('GET', path).body)
