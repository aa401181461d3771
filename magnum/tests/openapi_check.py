"""Every answer a test gets, checked against the API's description.

The unit tests' application (``unit/api/base.py``) and the functional
tests' HTTP client (``functional/processes.py``) hand each answer here:

- an answer to a described operation must have a status the operation
  describes, and its body must match that status's schema (a success's
  fields and their types, or the error form);
- an answer to a request the description does not have must be a refusal
  (4xx): a 2xx there is a route the description is missing.
"""

import functools
import json
import re

import jsonschema

from magnum.api import openapi


@functools.lru_cache(maxsize=1)
def _routes():
    """[(regex, template)], literal paths before templated ones."""
    routes = []
    for template in openapi.document()['paths']:
        pattern = re.sub(r'\\{[^}]+\\}', '[^/]+', re.escape(template))
        routes.append((template.count('{'), re.compile(
            '^%s/?$' % pattern), template))
    routes.sort(key=lambda route: route[0])
    return [(regex, template) for _, regex, template in routes]


def operation(method, path):
    """(template, the operation) that serves ``method path``, or
    (template, None) for a path with no such method, or (None, None)."""
    paths = openapi.document()['paths']
    path = path.split('?', 1)[0]
    for regex, template in _routes():
        if regex.match(path):
            return template, paths[template].get(method.lower())
    return None, None


@functools.lru_cache(maxsize=None)
def _validator(method, template, status):
    """(whether the status is described, a validator of its body or
    None)."""
    op = openapi.document()['paths'][template][method.lower()]
    known, schema = _response_schema(op, status)
    if schema is None:
        return known, None
    return known, jsonschema.Draft202012Validator(_resolved(schema))


def _response_schema(op, status):
    responses = op['responses']
    described = (responses.get(str(status))
                 or responses.get('%dXX' % (status // 100)))
    if described is None:
        return False, None
    if '$ref' in described:
        name = described['$ref'].rsplit('/', 1)[-1]
        described = openapi.document()['components']['responses'][name]
    content = described.get('content', {}).get('application/json')
    return True, None if content is None else content['schema']


def _resolved(schema):
    """The schema with the document's components, for its $refs."""
    return dict(schema, components=openapi.document()['components'])


def check(method, path, status, text):
    """Raise AssertionError if an answer does not match the description."""
    method = method.upper()
    if method in ('HEAD', 'OPTIONS'):
        # NOTE: a HEAD is its GET without the body; an OPTIONS is CORS's
        # preflight (oslo.middleware), on every path.
        return
    where = '%s %s answered %d' % (method, path, status)
    template, op = operation(method, path)
    if op is None:
        assert status >= 400, (
            '%s, but the description has no %s %s'
            % (where, method, template or path))
        return
    known, validator = _validator(method, template, status)
    assert known, '%s, which %s %s does not describe (it has %s)' % (
        where, method, template, ', '.join(sorted(op['responses'])))
    if validator is None or not text:
        return
    try:
        body = json.loads(text)
    except ValueError:
        raise AssertionError('%s with a body that is not JSON: %r'
                             % (where, text[:200]))
    try:
        validator.validate(body)
    except jsonschema.ValidationError as e:
        raise AssertionError('%s; its body does not match %s %s: %s at %s'
                             % (where, method, template, e.message,
                                '/'.join(str(p) for p in e.absolute_path)))
