"""The ``static`` provisioner: put an existing COE endpoint under a bay.

Nothing is built. The BayModel's labels name the endpoint:

* ``docker_url``: a Docker Engine (or Swarm) API, ``unix:///path``,
  ``tcp://host:port``, ``http(s)://host:port``. Docker and Swarm bays.
* ``kube_api_url``: a Kubernetes API server, ``http(s)://host:port``.
  Kubernetes bays. ``kube_tls_verify=false`` skips checking its certificate.
  Magnum's credentials for it come from the conductor's configuration
  (magnum/drivers/kube_auth.py), never from labels.

A template without its label is accepted (its bays may use another
provisioner); a bay create on it is refused with a 400 naming the label
(``validate``), asking about a label spelled close to it.

Creating or updating the bay asks the endpoint for real (Docker ``/info``,
Kubernetes ``/version`` and its nodes) and records what it reports; a bay is
CREATE_FAILED with the endpoint's own error when it does not answer. Nodes
are managed outside Magnum, so ``node_count`` is recorded, never enforced.
Deleting the bay leaves the endpoint as it was.

Certificates: with ``[static] certificate_dir`` set, a bay whose endpoint
is ``tcp://`` or ``https://`` gets its CA's certificate, server
certificate and server key in ``<certificate_dir>/<bay uuid>/`` (``ca.crt``,
``server.crt``, ``server.key``), at create and at each CA rotation. The
operator points the endpoint at those files; until it presents the bay's
server certificate, a create stays CREATE_IN_PROGRESS (the reconciler asks
again each pass, until bay_create_timeout), its status_reason saying what
it waits for; the timeout fails it with that reason. An endpoint that
answers over TLS with an HTTP error (but a Kubernetes 401 or 403: RBAC
still to be granted), or a URL no client can use, fails it at once. See
doc/source/admin/certificates.rst.
"""

import os
import re
import shutil
import ssl
from urllib import parse

import docker.errors
import kubernetes.client
from oslo_config import cfg
from oslo_log import log as logging
import urllib3

from magnum.common import exception
from magnum.common import spelling
from magnum.drivers import base
from magnum.drivers import kube_auth
from magnum.drivers import tls_clients
from magnum.objects import bay_tls
from magnum.objects import states

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
# The cluster era's health_status: whether the endpoint answered at the
# last create or update.
HEALTHY = 'HEALTHY'
UNHEALTHY = 'UNHEALTHY'


class EndpointError(Exception):
    pass


class TLSPending(EndpointError):
    """An endpoint that is to serve the bay's certificates does not answer
    with them (yet): its operator may still be setting it up.
    """


# NOTE: OpenSSL's words without its library's tag and source line:
# "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)".
_OPENSSL_NOISE = re.compile(r'^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$')


def _causes(error):
    """``error`` and every exception it wraps, outermost first: urllib3,
    requests and the kubernetes client each wrap the socket's error in
    their own, by chaining or as an argument."""
    found, todo = [], [error]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is f for f in found):
            continue
        found.append(e)
        todo.extend((e.__cause__, e.__context__, getattr(e, 'reason', None)))
        todo.extend(e.args)
    return found


# What a create waits for: the endpoint's server certificate, or (the
# endpoint's TLS alert says) its trust in the bay's client certificate.
_SERVER_CERT = "present a certificate signed by the bay's CA"
_CLIENT_CERT = "accept the client certificate of the bay's CA"
_CLIENT_ALERTS = ('UNKNOWN_CA', 'BAD_CERTIFICATE', 'CERTIFICATE_UNKNOWN',
                  'CERTIFICATE_REQUIRED')


def _why(error):
    """Why an endpoint gave no HTTP answer: (what is awaited, a few words:
    what TLS or the socket said, without the clients' wrappers and type
    names)."""
    causes = _causes(error)
    for e in causes:
        if isinstance(e, ssl.SSLCertVerificationError):
            return _SERVER_CERT, 'certificate verify failed: %s' % (
                e.verify_message or _OPENSSL_NOISE.sub('', str(e)))
    for e in causes:
        if isinstance(e, ssl.SSLError):
            awaited = (_CLIENT_CERT if (e.reason or '').endswith(
                _CLIENT_ALERTS) else _SERVER_CERT)
            return awaited, 'TLS failed: %s' % _OPENSSL_NOISE.sub('', str(e))
    return _SERVER_CERT, _socket_words(causes)


def _socket_words(causes):
    for e in causes:
        if isinstance(e, ConnectionRefusedError):
            return 'connection refused'
        if isinstance(e, ConnectionResetError):
            return 'connection reset'
    for e in causes:
        # NOTE: urllib3's "new connection" error is one of its timeouts,
        # whatever the socket said (it says below).
        if isinstance(e, (TimeoutError, urllib3.exceptions.TimeoutError)) \
                and not isinstance(e, urllib3.exceptions.NewConnectionError):
            return 'no answer within %g s' % CONF.static.connect_timeout
    for e in causes:
        if isinstance(e, OSError) and e.strerror:
            return e.strerror
    return str(causes[-1])


def _not_ready(coe, url, own_tls, error, words):
    """What a ``coe`` endpoint that gave no HTTP answer (``error``;
    ``words``: its client's own) means: while it is to serve the bay's
    certificates, that it does not yet; otherwise that it did not answer.
    """
    if own_tls:
        return TLSPending('Waiting for %s to %s: %s'
                          % ((url,) + _why(error)))
    return EndpointError('%s endpoint %s did not answer: %s'
                         % (coe, url, words))


def _serves_bay_tls(bay):
    return bay is not None and bay_tls.client_tls(bay) is not None


def _docker_state(url, bay=None):
    timeout = CONF.static.connect_timeout
    own_tls = _serves_bay_tls(bay)
    try:
        client = tls_clients.docker_api_client(url, bay, timeout)
        try:
            info = client.info()
        finally:
            client.close()
    except (ValueError, docker.errors.DockerException) as e:
        # NOTE: an HTTP answer (over TLS: with the bay's certificates), or a
        # URL the SDK cannot use: waiting mends neither.
        raise EndpointError('Docker endpoint %s did not answer: %s'
                            % (url, e))
    except Exception as e:
        raise _not_ready('Docker', url, own_tls, e, e) from e
    swarm = info.get('Swarm') or {}
    parsed = parse.urlparse(url)
    if swarm.get('LocalNodeState') == 'active' and swarm.get('NodeAddr'):
        nodes = [swarm['NodeAddr']]
    elif parsed.scheme == 'unix':
        # NOTE: a socket is on the conductor's own host; name it as the
        # engine names itself.
        nodes = [info.get('Name') or 'localhost']
    else:
        nodes = [parsed.hostname]
    return base.BayState(api_address=url, master_addresses=[],
                         node_addresses=nodes)


def _kube_state(url, verify, bay=None):
    # NOTE: with Magnum's credentials for the endpoint (the bay's own client
    # certificate, or [kubernetes] kubeconfig): a cluster with RBAC does
    # not show its nodes to anonymous callers.
    config = kube_auth.configuration(url, verify, bay=bay)
    timeout = CONF.static.connect_timeout
    own_tls = _serves_bay_tls(bay)
    try:
        with kubernetes.client.ApiClient(config) as api:
            version = kubernetes.client.VersionApi(api).get_code(
                _request_timeout=timeout)
            nodes = kubernetes.client.CoreV1Api(api).list_node(
                _request_timeout=timeout)
    except kubernetes.client.ApiException as e:
        if not e.status:
            # NOTE: status 0 is no HTTP answer: the client's report of a
            # TLS failure ("SSLError\n<what OpenSSL said>").
            raise _not_ready('Kubernetes', url, own_tls, e,
                             (e.reason or '').split('\n')[-1]) from e
        if e.status in (401, 403) and own_tls:
            # NOTE: the certificate was made at this create: the operator
            # may still be granting its user (magnum) its rights, or
            # pointing --client-ca-file at the bay's CA.
            raise TLSPending('Kubernetes endpoint %s refused the client '
                             'certificate of bay %s (user "magnum"): %s %s'
                             % (url, bay.uuid, e.status, e.reason))
        raise EndpointError('Kubernetes endpoint %s refused: %s %s'
                            % (url, e.status, e.reason))
    except ValueError as e:
        # NOTE: a URL the client cannot use, or an answer that is no
        # Kubernetes API's: waiting mends neither.
        raise EndpointError('Kubernetes endpoint %s did not answer: %s'
                            % (url, e))
    except Exception as e:
        raise _not_ready('Kubernetes', url, own_tls, e, e) from e
    addresses = []
    for node in nodes.items:
        for address in (node.status.addresses or []):
            if address.type == 'InternalIP':
                addresses.append(address.address)
    LOG.debug('Kubernetes endpoint %s runs %s with %d node(s)',
              url, version.git_version, len(nodes.items))
    return base.BayState(api_address=url,
                         master_addresses=[parse.urlparse(url).hostname],
                         node_addresses=addresses)


# The label that names a bay's endpoint, for each COE, and what the
# endpoint is (for the 400 of a bay create on a template without it).
_KUBE_LABEL = ('kube_api_url', 'Kubernetes API server',
               'https://host:6443')
_DOCKER_LABEL = ('docker_url', 'Docker Engine',
                 'unix:///var/run/docker.sock, tcp://host:port or '
                 'http(s)://host:port')


def _endpoint_label(coe):
    return _KUBE_LABEL if coe == 'kubernetes' else _DOCKER_LABEL


def _endpoint_url(baymodel):
    labels = baymodel.labels or {}
    return labels.get(_endpoint_label(baymodel.coe)[0]) or ''


def _missing_endpoint(baymodel):
    """Why the static provisioner cannot register a bay of ``baymodel``
    (sentences for the user), or None when its endpoint label is set."""
    labels = baymodel.labels or {}
    label, what, example = _endpoint_label(baymodel.coe)
    if labels.get(label):
        return None
    reason = ('template %s has %s label %s, which the static provisioner '
              'needs: a %s bay of it registers the existing %s at that URL '
              '(%s). Add the label to the template%s'
              % (baymodel.name or baymodel.uuid,
                 'an empty' if label in labels else 'no', label,
                 baymodel.coe, what, example,
                 '' if labels.get('provisioner') else
                 ', or name another provisioner in its label provisioner'))
    other = (_DOCKER_LABEL if label == _KUBE_LABEL[0] else _KUBE_LABEL)[0]
    typo = spelling.closest(label, [name for name in labels
                                    if name != other])
    if typo:
        return reason + '. It has a label %s: did you mean %s?' % (typo,
                                                                   label)
    if labels.get(other):
        return reason + ('. Its label %s is the endpoint of %s bays.'
                         % (other, 'kubernetes' if other == _KUBE_LABEL[0]
                            else 'docker and swarm'))
    return reason + '.'


def _certificate_dir(bay):
    return os.path.join(CONF.static.certificate_dir, bay.uuid)


def _timed_out(bay, waiting):
    reason = 'Bay creation timed out after %d minute(s)' % (
        bay.bay_create_timeout)
    return base.BayState(status=states.CREATE_FAILED,
                         status_reason='%s: %s' % (reason, waiting)
                         if waiting else reason + '.')


class StaticProvisioner(base.Provisioner):

    # NOTE: a create that waits for its endpoint ends here at
    # bay_create_timeout, so that its reason says what it waited for.
    handles_timeout = True

    def validate(self, baymodel, bay_values):
        # NOTE: a template stays creatable without its endpoint label (its
        # bays may use another provisioner); a bay on it is refused here,
        # before anything is written, instead of failing once created.
        reason = _missing_endpoint(baymodel)
        if reason:
            raise exception.InvalidParameterValue(field='baymodel_id',
                                                  reason=reason)

    # -- certificates ------------------------------------------------------

    def serves_bay_certificates(self, bay, baymodel):
        scheme = parse.urlsplit(_endpoint_url(baymodel)).scheme
        return bool(CONF.static.certificate_dir) and scheme in ('tcp',
                                                                 'https')

    def supports(self, kind):
        # NOTE: a CA rotation is pushed as files where the endpoint reads
        # them; without [static] certificate_dir there is nowhere to push.
        if kind == 'rotate_ca':
            return bool(CONF.static.certificate_dir)
        return super().supports(kind)

    def _deliver(self, bay, bundle):
        """The bay's CA, server certificate and key where its endpoint
        reads them; each file replaced whole (0600, directory 0700).
        """
        directory = _certificate_dir(bay)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        for name, text in (('ca.crt', bundle.ca_cert),
                           ('server.crt', bundle.server_cert),
                           ('server.key', bundle.server_key)):
            bay_tls.write_private(os.path.join(directory, name), text)

    def rotate_ca(self, context, bay, baymodel, bundle):
        if not CONF.static.certificate_dir:
            return super().rotate_ca(context, bay, baymodel, bundle)
        self._deliver(bay, bundle)
        LOG.info('Bay %s: new certificates delivered to %s', bay.uuid,
                 _certificate_dir(bay))

    def _check(self, baymodel, done, failed, bay=None):
        labels = baymodel.labels or {}
        try:
            if baymodel.coe == 'kubernetes':
                url = labels.get('kube_api_url')
                if not url:
                    raise EndpointError('the BayModel has no kube_api_url '
                                        'label for the static provisioner')
                verify = labels.get('kube_tls_verify', 'true') != 'false'
                state = _kube_state(url, verify, bay)
            else:
                url = labels.get('docker_url')
                if not url:
                    raise EndpointError('the BayModel has no docker_url '
                                        'label for the static provisioner')
                state = _docker_state(url, bay)
        except TLSPending as e:
            if done == states.CREATE_COMPLETE:
                # NOTE: the operator is still pointing the endpoint at the
                # delivered files; the reconciler asks again.
                return base.BayState(status_reason=str(e))
            return base.BayState(status=failed, status_reason=str(e))
        except EndpointError as e:
            return base.BayState(status=failed, status_reason=str(e),
                                 health_status=UNHEALTHY,
                                 health_status_reason={'api': str(e)})
        state.status = done
        state.status_reason = 'Endpoint %s answered.' % url
        state.health_status = HEALTHY
        state.health_status_reason = {'api': 'ok'}
        return state

    def create(self, context, bay, baymodel):
        if bay_tls.wants_ca(bay, baymodel):
            # NOTE: the reconciler may redo a lost create here directly.
            bundle = bay_tls.ensure(bay, baymodel,
                                    self.serves_bay_certificates(bay,
                                                                 baymodel))
            if bundle.endpoint_tls:
                self._deliver(bay, bundle)
        return self._check(baymodel, states.CREATE_COMPLETE,
                           states.CREATE_FAILED, bay)

    # NOTE (every change but create and delete): the endpoint's nodes are
    # managed outside Magnum; the rows already say what was asked, and the
    # endpoint is asked again, so the bay shows whether it still answers.

    def _recheck(self, bay, baymodel):
        return self._check(baymodel, states.UPDATE_COMPLETE,
                           states.UPDATE_FAILED, bay)

    def update(self, context, bay, baymodel, rollback=False):
        return self._recheck(bay, baymodel)

    def resize(self, context, bay, baymodel, nodegroup, node_count,
               nodes_to_remove=None, rollback=False):
        return self._recheck(bay, baymodel)

    def upgrade(self, context, bay, baymodel, template, nodegroup=None,
                max_batch_size=None, rollback=False):
        return self._recheck(bay, baymodel)

    def create_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._recheck(bay, baymodel)

    def update_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._recheck(bay, baymodel)

    def delete_nodegroup(self, context, bay, baymodel, name):
        return self._recheck(bay, baymodel)

    def rotate_credential(self, context, bay, baymodel):
        return self._recheck(bay, baymodel)

    def delete(self, context, bay, baymodel):
        if CONF.static.certificate_dir:
            shutil.rmtree(_certificate_dir(bay), ignore_errors=True)
        return base.BayState(status=states.DELETE_COMPLETE)

    def poll(self, context, items):
        """Static work is done inside the verb: an action still PENDING
        lost its message (or its conductor), and is handed over again
        (``redo``), on the conductor's redo pool once ``redo_after`` has
        passed. A create IN_PROGRESS waits for its endpoint to serve the
        bay's certificates: the endpoint is asked again, and once more at
        bay_create_timeout, which fails the create with what it waited
        for."""
        answers = {}
        for bay, baymodel, action in items:
            late = action.kind == 'create' and base.create_overdue(bay)
            if action.status == 'PENDING':
                answers[action.uuid] = (
                    _timed_out(bay, bay.status_reason) if late
                    else base.BayState(redo=True))
            elif action.kind == 'create':
                try:
                    state = self._check(baymodel, states.CREATE_COMPLETE,
                                        states.CREATE_FAILED, bay)
                except Exception:
                    # NOTE: one bay's trouble (its certificates unreadable)
                    # is no news about it, and holds no other bay back.
                    LOG.exception('Could not ask the endpoint of bay %s',
                                  bay.uuid)
                    state = base.BayState()
                if state.status is None and late:
                    state = _timed_out(bay, state.status_reason)
                if state.changes():
                    answers[action.uuid] = state
            else:
                answers[action.uuid] = base.BayState(redo=True)
        return answers
