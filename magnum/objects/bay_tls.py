"""Each bay's CA and its certificates, as the conductor keeps and uses them.

At create (unless the BayModel says ``tls_disabled``) the conductor makes
the bay a CA, a server certificate for the bay's API and a client
certificate for itself (``ensure``); the private keys go to the database
encrypted (magnum/common/keystore.py) and reach a bay only through its
provisioner (Heat parameters, a static bay's certificate directory).

The conductor's COE clients (Docker, Kubernetes) get their TLS material
from ``client_tls(bay)``: files in a private directory of the process
(0700, keys 0600), written once per CA generation, removed at exit.

NOTE: nothing here logs a certificate or a key. The API process does not
import this module (nor keystore, nor cryptography with it): it reads a
bay's CA certificate alone, with ``Bay.ca_cert``.
"""

import atexit
import dataclasses
import os
import shutil
import tempfile
import threading
from urllib import parse

from oslo_config import cfg
from oslo_log import log as logging

from magnum.common import exception
from magnum.common import keystore
from magnum.common import x509
from magnum.db import certificates as db_certificates

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
# NOTE: on a Kubernetes bay the conductor is the user "magnum" in the group
# [certificates] conductor_organization: what RBAC grants them is what it
# may do (doc/source/admin/certificates.rst).
CONDUCTOR_CN = 'magnum'

_FILES_LOCK = threading.Lock()
_FILES_DIR = None


@dataclasses.dataclass
class Bundle:
    """A bay's certificates, keys in clear (conductor memory only)."""

    generation: int
    ca_cert: str
    ca_key: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    endpoint_tls: bool = False

    def __repr__(self):
        # NOTE: a bundle in a log line or a traceback shows no key.
        return '<Bundle generation=%s>' % self.generation


def _field(record, name):
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name, None)


def _is_set(obj, name):
    check = getattr(obj, 'obj_attr_is_set', None)
    return check(name) if check else _field(obj, name) is not None


def wants_ca(bay, baymodel):
    """True for a bay (with a uuid) whose BayModel does not disable TLS."""
    return _is_set(bay, 'uuid') and not (
        _is_set(baymodel, 'tls_disabled') and baymodel.tls_disabled)


def endpoint_hosts(bay, baymodel):
    """The names the bay's server certificate carries: the bay's own
    server name, then every address of its API known now.
    """
    hosts = [x509.server_name(bay.uuid)]
    labels = (baymodel.labels if _is_set(baymodel, 'labels') else None) or {}
    for url in (_field(bay, 'api_address') if _is_set(bay, 'api_address')
                else None, labels.get('docker_url'),
                labels.get('kube_api_url')):
        host = parse.urlsplit(url or '').hostname
        if host:
            hosts.append(host)
    if _is_set(bay, 'master_addresses'):
        hosts.extend(bay.master_addresses or [])
    seen = []
    for host in hosts:
        if host and host not in seen:
            seen.append(host)
    return seen


def _new(bay, baymodel, endpoint_tls, generation):
    days = CONF.certificates.cert_validity_days
    ca_cert, ca_key = x509.make_ca(bay.uuid,
                                   CONF.certificates.ca_validity_days)
    server_key = x509.new_key()
    server_cert = x509.issue(
        ca_cert, ca_key, server_key.public_key(),
        x509.name(x509.server_name(bay.uuid), 'Magnum'), x509.SERVER, days,
        hosts=endpoint_hosts(bay, baymodel))
    client_key = x509.new_key()
    client_cert = x509.issue(
        ca_cert, ca_key, client_key.public_key(),
        x509.name(CONDUCTOR_CN, CONF.certificates.conductor_organization),
        x509.CLIENT, days)
    return Bundle(generation=generation,
                  ca_cert=x509.cert_pem(ca_cert), ca_key=x509.key_pem(ca_key),
                  server_cert=x509.cert_pem(server_cert),
                  server_key=x509.key_pem(server_key),
                  client_cert=x509.cert_pem(client_cert),
                  client_key=x509.key_pem(client_key),
                  endpoint_tls=bool(endpoint_tls))


def _row_values(bundle):
    return {'ca_cert': bundle.ca_cert,
            'ca_key': keystore.encrypt(bundle.ca_key),
            'server_cert': bundle.server_cert,
            'server_key': keystore.encrypt(bundle.server_key),
            'client_cert': bundle.client_cert,
            'client_key': keystore.encrypt(bundle.client_key),
            'endpoint_tls': bundle.endpoint_tls}


def _from_row(row):
    return Bundle(generation=row.generation, ca_cert=row.ca_cert,
                  ca_key=keystore.decrypt(row.ca_key),
                  server_cert=row.server_cert,
                  server_key=keystore.decrypt(row.server_key),
                  client_cert=row.client_cert,
                  client_key=keystore.decrypt(row.client_key),
                  endpoint_tls=row.endpoint_tls)


def ensure(bay, baymodel, endpoint_tls):
    """The bay's certificates, made now if it has none (a create redone
    keeps the first ones).
    """
    row = db_certificates.get_bay_certificate(bay.uuid)
    if row is None:
        bundle = _new(bay, baymodel, endpoint_tls, 1)
        row = db_certificates.create_bay_certificate(bay.uuid,
                                                     _row_values(bundle))
        LOG.info('Bay %s has a new CA', bay.uuid)
    return _from_row(row)


def load(bay_uuid):
    """The bay's certificates (keys decrypted), or None."""
    row = db_certificates.get_bay_certificate(bay_uuid)
    return None if row is None else _from_row(row)


def rotate(bay, baymodel):
    """A new CA with new server and client certificates, written in place
    of the old ones (one conditional UPDATE). Returns the new bundle.
    """
    row = db_certificates.get_bay_certificate(bay.uuid)
    if row is None:
        raise exception.BayHasNoCA(bay=bay.uuid)
    bundle = _new(bay, baymodel, row.endpoint_tls, row.generation + 1)
    if db_certificates.update_bay_certificate(
            bay.uuid, _row_values(bundle),
            generation=row.generation) is None:
        raise exception.BayLocked(bay=bay.uuid, host='another rotation')
    LOG.info('Bay %s: CA rotated (generation %d)', bay.uuid,
             bundle.generation)
    return bundle


def sign(bay_uuid, csr_pem):
    """A client certificate (PEM) for a tenant's CSR."""
    bundle = load(bay_uuid)
    if bundle is None:
        raise exception.BayHasNoCA(bay=bay_uuid)
    try:
        cert = x509.sign_csr(x509.load_cert(bundle.ca_cert),
                             x509.load_key(bundle.ca_key), csr_pem,
                             CONF.certificates.signed_cert_validity_days,
                             CONF.certificates.min_rsa_key_bits)
    except x509.CSRError as e:
        raise exception.InvalidParameterValue(field='csr', reason=str(e))
    return x509.cert_pem(cert)


def issue_client(bay_uuid, common_name):
    """A fresh key and client certificate for the caller of
    ``GET /v1/bays/<ident>/config``: (certificate PEM, key PEM).
    """
    bundle = load(bay_uuid)
    if bundle is None:
        raise exception.BayHasNoCA(bay=bay_uuid)
    key = x509.new_key()
    cert = x509.issue(
        x509.load_cert(bundle.ca_cert), x509.load_key(bundle.ca_key),
        key.public_key(),
        x509.name(common_name, CONF.certificates.config_organization),
        x509.CLIENT, CONF.certificates.signed_cert_validity_days)
    return x509.cert_pem(cert), x509.key_pem(key)


# -- the conductor's own TLS files -------------------------------------------

@dataclasses.dataclass(frozen=True)
class ClientTLS:
    ca_file: str
    cert_file: str
    key_file: str
    server_name: str


def _files_dir():
    global _FILES_DIR
    if _FILES_DIR is None:
        _FILES_DIR = tempfile.mkdtemp(prefix='magnum-tls-')
        os.chmod(_FILES_DIR, 0o700)
        atexit.register(shutil.rmtree, _FILES_DIR, True)
    return _FILES_DIR


def write_private(path, text):
    """Write ``text`` to ``path``, readable by this user alone."""
    tmp = '%s.%d.tmp' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def client_tls(bay):
    """The conductor's TLS material for ``bay``'s endpoint, or None when
    the endpoint does not serve the bay's certificates.
    """
    if not _is_set(bay, 'uuid'):
        return None
    row = db_certificates.get_bay_certificate(bay.uuid)
    if row is None or not row.endpoint_tls:
        return None
    with _FILES_LOCK:
        directory = os.path.join(_files_dir(), '%s-%d' % (bay.uuid,
                                                          row.generation))
        files = ClientTLS(os.path.join(directory, 'ca.crt'),
                          os.path.join(directory, 'client.crt'),
                          os.path.join(directory, 'client.key'),
                          x509.server_name(bay.uuid))
        if not os.path.exists(files.key_file):
            os.makedirs(directory, mode=0o700, exist_ok=True)
            write_private(files.ca_file, row.ca_cert)
            write_private(files.cert_file, row.client_cert)
            write_private(files.key_file, keystore.decrypt(row.client_key))
    return files
