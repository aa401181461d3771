"""RFC 6902 JSON-patch requests, checked before they touch anything."""

import json
import re

import jsonpatch

from magnum.common import exception

_PATH = re.compile(r'^(/[\w-]+)+$')
_OPS = ('add', 'replace', 'remove')


def check(patch, writable):
    """``patch``, once its form is right: a non-empty list of operations,
    each on a ``writable`` field. A handler checks the body so before it
    looks up what it changes (bad input is a 400 even for a missing row).
    """
    if not isinstance(patch, list) or not patch:
        raise exception.InvalidPatch(
            reason='the body must be a non-empty JSON-patch list')
    for op in patch:
        if not isinstance(op, dict):
            raise exception.InvalidPatch(
                reason='each operation must be a JSON object')
        if op.get('op') not in _OPS:
            raise exception.InvalidPatch(
                reason="op %r is not one of %s" % (op.get('op'),
                                                   ', '.join(_OPS)))
        path = op.get('path')
        if not isinstance(path, str) or not _PATH.match(path):
            raise exception.InvalidPatch(
                reason='path %r is not of the form /field' % (path,))
        field = path.split('/')[1]
        if field not in writable:
            raise exception.InvalidPatch(
                reason="'%s' cannot be changed; changeable fields: %s"
                % (path, ', '.join(sorted(writable))))
        if op['op'] != 'remove' and 'value' not in op:
            raise exception.InvalidPatch(
                reason="operation %s on %s needs a value" % (op['op'], path))
    return patch


def apply(document, patch, writable):
    """``document`` with ``patch`` applied; only ``writable`` fields change.

    Returns the new document. Every refusal is an InvalidPatch naming the
    path, and the document given is never changed.
    """
    check(patch, writable)
    # NOTE: plain JSON types first: an object's dict field coerces what is
    # put in it (5 -> '5'), which would skip the field's own check.
    document = json.loads(json.dumps(document))
    for op in patch:
        try:
            document = jsonpatch.apply_patch(document, [op])
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException,
                KeyError, IndexError, TypeError) as e:
            raise exception.InvalidPatch(
                reason='%s %s: %s' % (op['op'], op['path'], e))
    return document


def changed(before, after):
    """The top-level fields whose values differ."""
    return {name: after.get(name) for name in set(before) | set(after)
            if not _same(before.get(name), after.get(name))}


def _same(a, b):
    # NOTE: in Python true == 1; a patch to true must still be checked.
    return a == b and isinstance(a, bool) == isinstance(b, bool)
