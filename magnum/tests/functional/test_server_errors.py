"""What a real magnum-all answers to requests the API never sees.

gunicorn refuses a request it cannot parse before any middleware runs; the
answer must still be in the API's error form with a request id, the log
must name that id, and the server must go on serving. ``OPTIONS *`` and a
collection that serves nothing itself must get clean answers too. Each
request goes over a raw socket, as the bytes a broken client would send.
"""

import http.client
import json
import socket
import time

import pytest

from magnum.tests.functional import processes

MISSING = object()


@pytest.fixture(scope='module')
def magnum():
    with processes.deployment('all') as running:
        yield running


def send(magnum, data):
    """The server's answer to ``data``: (status, headers, body)."""
    with socket.create_connection(('127.0.0.1', magnum.port),
                                  timeout=10) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.headers, response.read()


def request(method, target, headers=()):
    lines = ['%s %s HTTP/1.1' % (method, target), 'Host: magnum',
             'Connection: close'] + list(headers)
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


def faultstring(body):
    outer = json.loads(body)
    assert set(outer) == {'error_message'}, outer
    inner = json.loads(outer['error_message'])
    assert set(inner) == {'faultstring', 'faultcode', 'debuginfo'}, inner
    assert inner['faultcode'] == 'Client' and inner['debuginfo'] is None
    return inner['faultstring']


REFUSED = [
    pytest.param(b'GET /v1 HTTP/1.1 garbage\r\nHost: magnum\r\n\r\n', 400,
                 'The request line is not valid HTTP.', id='request-line'),
    pytest.param(request('GET', '/v1/' + 'a' * 5000), 414,
                 'The request line is longer than 4094 bytes.',
                 id='request-line-too-long'),
    pytest.param(request('GET', '/v1', ['X-Big: ' + 'a' * 9000]), 431,
                 'The request headers are too large', id='header-too-large'),
    pytest.param(request('GET', '/v1', ['X-N%d: n' % n for n in range(101)]),
                 431, 'The request has too many headers', id='many-headers'),
    pytest.param(request('GET', '/v1', ['Bad Name: x']), 400,
                 'A request header is not valid HTTP.', id='header-name'),
]


def wait_for_log(magnum, words, timeout=5):
    deadline = time.monotonic() + timeout
    while words not in magnum.process.tail(200):
        assert time.monotonic() < deadline, (
            '%r never logged\n%s' % (words, magnum.logs()))
        time.sleep(0.1)


@pytest.mark.parametrize('data, status, words', REFUSED)
def test_a_refused_request_is_answered_in_the_error_form(magnum, data,
                                                         status, words):
    got_status, headers, body = send(magnum, data)
    assert got_status == status, body
    assert headers['Content-Type'] == 'application/json'
    assert headers['Connection'] == 'close'
    assert words in faultstring(body)
    request_id = headers[processes.REQUEST_ID]
    assert request_id.startswith('req-'), request_id
    wait_for_log(magnum, request_id)
    # The worker goes on serving.
    assert send(magnum, request('GET', '/'))[0] == 200


def test_options_asterisk_asks_about_the_server(magnum):
    status, headers, body = send(magnum, request('OPTIONS', '*'))
    assert status == 200, body
    assert body == b''
    assert headers['Content-Length'] == '0'
    assert set(headers['Allow'].split(', ')) >= {'GET', 'POST', 'PATCH',
                                                  'DELETE'}
    assert headers[processes.REQUEST_ID].startswith('req-')


def test_a_target_that_is_not_a_path_is_400(magnum):
    status, headers, body = send(magnum, request('CONNECT',
                                                 'example.com:443'))
    assert status == 400, body
    assert 'must be a path' in faultstring(body)
    assert headers[processes.REQUEST_ID].startswith('req-')


@pytest.mark.parametrize('method', ['GET', 'PATCH', 'POST', 'DELETE'])
def test_credentials_without_a_cluster_name_the_request(api, method):
    # processes.Client asserts the request id.
    response = api.request(method, '/v1/credentials')
    assert response.status_code == 404, response.text
    assert 'PATCH /v1/credentials/<ident>' in processes.faultstring(
        response)
    assert 'Allow' not in response.headers


def test_a_cluster_credential_refuses_get_with_allow(api):
    response = api.get('/v1/credentials/some-cluster')
    assert response.status_code == 405, response.text
    assert response.headers['Allow'] == 'PATCH'
    assert 'use PATCH' in processes.faultstring(response)


def test_head_is_served_where_get_is(api):
    response = api.request('HEAD', '/v1/bays')
    assert response.status_code == 200
    assert response.content == b''
