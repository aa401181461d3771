"""Idempotent creates: the ``Idempotency-Key`` header.

A client that timed out on ``POST /v1/clusters`` (or ``/v1/bays``) cannot
know whether its cluster was made. Sent with an ``Idempotency-Key`` of the
client's choosing, the same request repeated by the same project within
``[api] idempotency_window`` seconds answers as the first did (the same
status code and body shape, for the bay the first request made) instead of
making a second cluster. The same key with another request (another path
or body) is a 409 naming the key; so is a key whose bay has since been
deleted.

The key, the digest of its request and the bay are recorded in the
transaction of the bay's insert (magnum/db/idempotency.py), so two
requests racing with one key make one bay: the loser's insert is rolled
back and it answers with the winner's bay.
"""

import hashlib
import json

from oslo_config import cfg

from magnum.common import exception
from magnum.db import idempotency as db_idempotency

HEADER = 'Idempotency-Key'
_MAX_LENGTH = 255


class Key:
    """A request's key and the digest of what it asked."""

    def __init__(self, key, digest):
        self.key = key
        self.digest = digest

    def window(self):
        return cfg.CONF.api.idempotency_window


def parse(value, path, body):
    """The request's Key, or None when it sent none (or the window is 0).

    ``body``: the request's bytes; a JSON body is compared as JSON, so
    the order of its keys and its spacing do not matter.
    """
    if value is None or not cfg.CONF.api.idempotency_window:
        return None
    if not value or len(value) > _MAX_LENGTH or not all(
            32 < ord(c) < 127 for c in value):
        raise exception.InvalidParameterValue(
            field=HEADER, reason='a key is 1 to %d printable ASCII '
                                 'characters without spaces' % _MAX_LENGTH)
    try:
        canonical = json.dumps(json.loads(body or b'null'), sort_keys=True,
                               separators=(',', ':')).encode()
    except ValueError:
        canonical = body or b''
    digest = hashlib.sha256(path.encode() + b'\n' + canonical).hexdigest()
    return Key(value, digest)


def earlier_bay(context, key):
    """The uuid of the bay an earlier request with ``key`` made, or None;
    IdempotencyKeyReused (409) when that request asked something else."""
    if key is None:
        return None
    row = db_idempotency.find(context.project_id, key.key, key.window())
    if row is None:
        return None
    if row.digest != key.digest:
        raise exception.IdempotencyKeyReused(key=key.key, bay=row.bay_uuid)
    return row.bay_uuid
