"""Kubernetes names Magnum makes from OpenStack ids."""

import hashlib
import re

_DNS_LABEL = re.compile(r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')


def namespace(prefix, project_id):
    """The namespace of a project: ``prefix`` and the id, when that is a
    valid name; otherwise a readable part of the id and a hash of all of it
    (so two ids never share a namespace).
    """
    name = prefix + project_id
    if _DNS_LABEL.match(name) and len(name) <= 63:
        return name
    readable = re.sub(r'[^a-z0-9-]+', '-', project_id.lower()).strip('-')
    digest = hashlib.sha256(project_id.encode('utf-8')).hexdigest()[:16]
    room = 63 - len(prefix) - len(digest) - 1
    readable = readable[:room].strip('-')
    return '%s%s-%s' % (prefix, readable, digest) if readable else (
        prefix + digest)


def dns_label(text, default, size=63):
    """``text`` as a DNS label (RFC 1123) of at most ``size`` characters:
    lower case, runs of other characters as "-"; ``default`` if nothing is
    left."""
    label = re.sub(r'[^a-z0-9-]+', '-', (text or '').lower())
    label = label[:size].strip('-')
    return label or default
