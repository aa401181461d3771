"""RFC 6902 JSON-patch requests, checked before they touch anything.

Two things clients send that plain RFC 6902 does not say:

- a whole dict or list field given as a Python literal string,
  ``"{'a': 'b'}"``: python-magnumclient's ``update`` commands send labels,
  node labels and taints so, magnum-auto-healer its health reason. The
  string is read with ``ast.literal_eval`` (literals only, never code).
- a key of a flat {key: value} field with ``/`` in it, unescaped:
  ``/labels/example.com/role`` (python-magnumclient 5.0.0's ``--label``)
  means the key ``example.com/role`` of ``labels``.
"""

import ast
import json
import re

import jsonpatch

from magnum.common import exception

_PATH = re.compile(r'^/[\w-]+(/[^/]+)*$')
_OPS = ('add', 'replace', 'remove')
# The longest Python literal read for a field (a dict of labels...).
MAX_LITERAL = 65536


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


def apply(document, patch, writable, maps=(), lists=()):
    """``document`` with ``patch`` applied; only ``writable`` fields change.

    ``maps``: the flat {key: value} fields (a path below one names a key,
    ``/`` and all); ``maps`` and ``lists`` (list fields) may be given
    whole as a Python literal string. Returns the new document. Every
    refusal is an InvalidPatch naming the path, and the document given is
    never changed.
    """
    check(patch, writable)
    # NOTE: plain JSON types first: an object's dict field coerces what is
    # put in it (5 -> '5'), which would skip the field's own check.
    document = json.loads(json.dumps(document))
    for op in patch:
        op = _plain(op, document, maps, lists)
        try:
            document = jsonpatch.apply_patch(document, [op])
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException,
                KeyError, IndexError, TypeError) as e:
            raise exception.InvalidPatch(
                reason='%s %s: %s' % (op['op'], op['path'], _why(e)))
    return document


def _plain(op, document, maps, lists):
    """``op`` as RFC 6902 says it: a literal string read, a map's key
    with ``/`` escaped, an absent map made empty before a key is added."""
    segments = op['path'].split('/')[1:]
    field = segments[0]
    if field in maps and len(segments) > 1:
        key = '/'.join(s.replace('~1', '/').replace('~0', '~')
                       for s in segments[1:])
        op = dict(op, path='/%s/%s' % (
            field, key.replace('~', '~0').replace('/', '~1')))
        if document.get(field) is None and op['op'] == 'add':
            document[field] = {}
    elif (len(segments) == 1 and op['op'] != 'remove'
            and (field in maps or field in lists)
            and isinstance(op['value'], str)):
        op = dict(op, value=_literal(op['path'], op['value'],
                                     dict if field in maps else list))
    return op


def _literal(path, text, kind):
    """The Python literal ``text`` (a dict or a list, as ``kind``)."""
    what = 'a dict' if kind is dict else 'a list'
    if len(text) > MAX_LITERAL:
        raise exception.InvalidPatch(
            reason='the value of %s is over %d characters'
            % (path, MAX_LITERAL))
    try:
        value = ast.literal_eval(
            text.strip() or ('{}' if kind is dict else '[]'))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise exception.InvalidPatch(
                reason='the value of %s is not %s (JSON, or as Python '
                       'prints one)' % (path, what))
    if not isinstance(value, kind):
        raise exception.InvalidPatch(
            reason='the value of %s is not %s' % (path, what))
    return value


def _why(error):
    """What jsonpatch said, in the user's words (never a Python type)."""
    text = str(error)
    if 'non-container' in text or 'not a container' in text:
        return 'the field has no parts to address'
    if isinstance(error, (KeyError, IndexError)):
        return 'there is nothing at that path'
    return re.sub(r"<class '[\w.]+'>", 'value', text)


def changed(before, after):
    """The top-level fields whose values differ."""
    return {name: after.get(name) for name in set(before) | set(after)
            if not _same(before.get(name), after.get(name))}


def _same(a, b):
    # NOTE: in Python true == 1; a patch to true must still be checked.
    return a == b and isinstance(a, bool) == isinstance(b, bool)
