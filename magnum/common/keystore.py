"""Private keys at rest: encrypted with the key from [certificates].

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key
derived from ``[certificates] encryption_key``; ``previous_encryption_keys``
still decrypt what they encrypted. Only the conductor calls this (the API
never holds a bay's private key).

NOTE: with auth_strategy keystone there must be a configured key
(``check`` refuses to start otherwise). The all-in-one (noauth) makes one
at random in ``$state_path/certificate-encryption.key`` the first time it
needs one, so a newcomer's bays still get CAs and survive a restart.
"""

import base64
import hashlib
import os
import threading

from cryptography import fernet
from oslo_config import cfg

from magnum.common import exception

CONF = cfg.CONF
KEY_FILE = 'certificate-encryption.key'
MIN_KEY_CHARS = 32
PREFIX = 'fernet:'
_LOCK = threading.Lock()


class KeyMissing(exception.MagnumException):
    message = ('[certificates] encryption_key is not set; with '
               'auth_strategy keystone the conductor cannot keep bays\' '
               'private keys without it (see doc/source/admin/'
               'certificates.rst).')


def _derive(secret):
    if len(secret) < MIN_KEY_CHARS:
        raise exception.MagnumException(
            message='a [certificates] key has fewer than %d characters'
            % MIN_KEY_CHARS)
    digest = hashlib.sha256(b'magnum-certificates\x00'
                            + secret.encode('utf-8')).digest()
    return fernet.Fernet(base64.urlsafe_b64encode(digest))


def _local_key():
    """The all-in-one's own key file, made once (0600)."""
    path = os.path.join(CONF.state_path, KEY_FILE)
    with _LOCK:
        if not os.path.exists(path):
            os.makedirs(CONF.state_path, exist_ok=True)
            secret = base64.urlsafe_b64encode(os.urandom(32)).decode()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, 'w') as f:
                    f.write(secret + '\n')
        with open(path) as f:
            return f.read().strip()


def check_or_exit(log):
    """For the conductor's commands: exit 1 with the reason, no traceback.
    """
    try:
        check()
    except exception.MagnumException as e:
        reason = str(e)
    else:
        return
    # NOTE: logged outside the except block: inside it, oslo.log's
    # formatter appends the exception being handled to the line, and the
    # operator read the reason twice.
    log.critical('%s', reason)
    raise SystemExit(1)


def check():
    """Refuse to run a conductor in keystone mode without a key."""
    if CONF.auth_strategy == 'keystone' and not (
            CONF.certificates.encryption_key):
        raise KeyMissing()
    _cipher()  # a key that is too short fails here, at start


def _cipher():
    current = CONF.certificates.encryption_key
    if not current:
        if CONF.auth_strategy == 'keystone':
            raise KeyMissing()
        current = _local_key()
    keys = [current] + [k for k in CONF.certificates.previous_encryption_keys
                        if k]
    return fernet.MultiFernet([_derive(k) for k in keys])


def encrypt(text):
    return PREFIX + _cipher().encrypt(text.encode('utf-8')).decode('ascii')


def decrypt(token):
    if not token.startswith(PREFIX):
        raise exception.MagnumException(
            message='a stored private key is not in the expected form')
    try:
        return _cipher().decrypt(token[len(PREFIX):].encode(
            'ascii')).decode('utf-8')
    except fernet.InvalidToken:
        raise exception.MagnumException(
            message='a stored private key does not decrypt with '
                    '[certificates] encryption_key or '
                    'previous_encryption_keys')
