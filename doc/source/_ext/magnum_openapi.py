"""Sphinx directive ``.. magnum-openapi::``: the API reference, rendered
from the API's own OpenAPI description (``magnum.api.openapi.document()``).

It emits one section for what every operation shares (credentials, common
parameters, the error form), then a section a tag and in it a section an
operation: its summary, minimum microversion, parameters, request body,
success answer and error statuses, as tables. Nothing is copied into the
rst, so the reference says what the code serves. The order is the
description's own (tags as they first appear, paths and methods as listed),
which ``document()`` builds the same way every time.
"""

import http
import json
import re
import sys
import warnings

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

MIN_VERSION = 'x-openstack-min-version'
_METHODS = ('get', 'put', 'post', 'patch', 'delete', 'head', 'options',
            'trace')


# -- the description ---------------------------------------------------------

def resolve(document, item):
    """``item``, or what its local ``$ref`` points at."""
    while isinstance(item, dict) and '$ref' in item:
        target = document
        for part in item['$ref'].removeprefix('#/').split('/'):
            target = target[part.replace('~1', '/').replace('~0', '~')]
        item = target
    return item


def operations(document):
    """(tag, method, path, operation, parameters) in the description's
    order; path-level parameters come first in ``parameters``."""
    for path, item in document.get('paths', {}).items():
        shared = item.get('parameters', [])
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            tag = (operation.get('tags') or ['other'])[0]
            yield (tag, method, path, operation,
                   shared + operation.get('parameters', []))


def common_parameters(document):
    """The ``$ref`` parameters every operation takes: shown once."""
    common = None
    for _tag, _method, _path, _operation, params in operations(document):
        refs = [p['$ref'] for p in params if '$ref' in p]
        common = refs if common is None else [r for r in common if r in refs]
    return common or []


def _kinds(schema):
    kind = schema.get('type', [])
    return [kind] if isinstance(kind, str) else list(kind)


def nullable(schema):
    alternatives = schema.get('anyOf', []) + schema.get('oneOf', [])
    return ('null' in _kinds(schema)
            or any(_kinds(s) == ['null'] for s in alternatives))


def _object(document, schema):
    """The object schema with properties that ``schema`` is or holds as
    its items, and whether it was held in an array; else (None, False)."""
    schema = resolve(document, schema)
    if 'array' in _kinds(schema):
        items = resolve(document, schema.get('items', {}))
        if items.get('properties') or items.get('required'):
            return items, True
    if schema.get('properties') or schema.get('required'):
        return schema, False
    return None, False


# -- inline text -------------------------------------------------------------

def _literal(text):
    return nodes.literal(text, text)


def _joined(parts, separator=', '):
    out = []
    for part in parts:
        if out:
            out.append(nodes.Text(separator))
        out.extend(part)
    return out


def type_nodes(document, schema, expanded=False):
    """Inline nodes saying what a value may be; null is left to a note.
    ``expanded``: its own fields follow in rows of their own."""
    schema = resolve(document, schema)
    alternatives = schema.get('anyOf') or schema.get('oneOf')
    if alternatives:
        return _joined([type_nodes(document, s) for s in alternatives
                        if _kinds(resolve(document, s)) != ['null']],
                       ' or ')
    if 'const' in schema:
        return [_literal(json.dumps(schema['const']))]
    text = _noun(document, schema, expanded)
    if 'format' in schema:
        text += ' (%s)' % schema['format']
    if 'contentMediaType' in schema:
        text += ' (%s)' % schema['contentMediaType']
    out = [nodes.Text(text)]
    out.extend(_constraints(schema))
    return out


def _noun(document, schema, expanded=False, plural=False):
    """``array of objects (href, rel)``, ``object of string values``..."""
    words = []
    for kind in [k for k in _kinds(schema) if k != 'null'] or ['any']:
        word = kind + ('s' if plural and kind != 'any' else '')
        if kind == 'array' and schema.get('items'):
            word += ' of ' + _noun(
                document, resolve(document, schema['items']), expanded, True)
        elif kind == 'object':
            if schema.get('properties') and not expanded:
                word += ' (%s)' % ', '.join(schema['properties'])
            values = schema.get('additionalProperties')
            if isinstance(values, dict) and values:
                word += ' of %s values' % _noun(
                    document, resolve(document, values))
        words.append(word)
    return ' or '.join(words)


def _range(low, high, unit=''):
    if low is not None and high is not None:
        return '%s to %s%s' % (low, high, unit)
    if high is None and low == 1:
        unit = unit.removesuffix('s')
    if low is not None:
        return 'at least %s%s' % (low, unit)
    return 'at most %s%s' % (high, unit)


def _constraints(schema):
    out = []
    if 'enum' in schema:
        out.append(nodes.Text(', one of '))
        out.extend(_joined([[_literal(json.dumps(v) if not isinstance(
            v, str) else v)] for v in schema['enum']]))
    for low, high, unit in (('minimum', 'maximum', ''),
                            ('minLength', 'maxLength', ' characters'),
                            ('minItems', 'maxItems', ' items')):
        if low in schema or high in schema:
            out.append(nodes.Text(', ' + _range(
                schema.get(low), schema.get(high), unit)))
    if 'pattern' in schema:
        out.append(nodes.Text(', matching '))
        out.extend(_breakable(schema['pattern']))
    return out


def _breakable(text):
    """A literal that a browser may break after each ``|``: a pattern of
    alternatives can be longer than a table is wide."""
    out = []
    for piece in re.split(r'(?<=\|)', text):
        if out:
            out.append(nodes.raw('', '<wbr>', format='html'))
        out.append(_literal(piece))
    return out


def _notes(schema, description=None):
    """What else a reader needs: may it be null, since which version,
    what it is."""
    notes = []
    if nullable(schema):
        notes.append('may be null')
    if MIN_VERSION in schema:
        notes.append('since %s' % schema[MIN_VERSION])
    if schema.get('deprecated'):
        notes.append('deprecated')
    if 'default' in schema:
        notes.append('default %s' % json.dumps(schema['default']))
    text = description or schema.get('description')
    if text:
        notes.append(text)
    return [nodes.Text('; '.join(notes))] if notes else []


# -- blocks ------------------------------------------------------------------

def table(header, rows):
    """A table of inline-node cells. ``header``: (title, width) a
    column; HTML leaves the widths to the browser."""
    group = nodes.tgroup(cols=len(header))
    for _title, width in header:
        group += nodes.colspec(colwidth=width)
    group += nodes.thead('', _row([[nodes.Text(t)] for t, _ in header]))
    group += nodes.tbody('', *[_row(cells) for cells in rows])
    return nodes.table('', group, classes=['colwidths-auto'])


def _row(cells):
    row = nodes.row()
    for cell in cells:
        row += nodes.entry('', *([nodes.paragraph('', '', *cell)]
                                 if cell else []))
    return row


def _label(text, *rest):
    return nodes.paragraph('', '', nodes.strong(text, text), *rest)


def parameters_table(document, params):
    rows = []
    for param in params:
        param = resolve(document, param)
        schema = resolve(document, param.get('schema', {}))
        notes = dict(schema)
        notes.pop('description', None)
        for key in (MIN_VERSION, 'deprecated'):
            if key in param:
                notes[key] = param[key]
        rows.append([[_literal(param['name'])], [nodes.Text(param['in'])],
                     type_nodes(document, schema),
                     [nodes.Text('yes' if param.get('required') else 'no')],
                     _notes(notes, param.get('description'))])
    return table([('name', 16), ('in', 7), ('type', 35), ('required', 9),
                  ('notes', 33)], rows)


def _plain(document, schema):
    """Whether an object's fields have nothing to say but their names:
    each always there, of one simple type, with no constraint or note."""
    properties = schema.get('properties', {})
    if set(schema.get('required', ())) != set(properties):
        return False
    for sub in properties.values():
        sub = resolve(document, sub)
        if set(sub) != {'type'} or sub['type'] not in (
                'string', 'integer', 'number', 'boolean'):
            return False
    return True


def field_rows(document, schema, prefix='', depth=0):
    """(name, schema, required, expanded) for each field of an object
    schema and, one level down, the fields of objects it holds."""
    required = set(schema.get('required', ()))
    for name, sub in schema.get('properties', {}).items():
        sub = resolve(document, sub)
        inner, in_array = _object(document, sub)
        expand = (inner is not None and depth == 0
                  and not _plain(document, inner))
        yield prefix + name, sub, name in required, expand
        if expand:
            yield from field_rows(document, inner, '%s%s%s' % (
                prefix, name, '[].' if in_array else '.'), depth + 1)
    for name in schema.get('required', ()):
        if name not in schema.get('properties', {}):
            yield prefix + name, {'description': 'not described'}, True, False


def fields_table(document, schema, request):
    """The fields of an object schema: whether a request must send each,
    or whether an answer may leave it out."""
    rows = []
    for name, sub, required, expanded in field_rows(document, schema):
        notes = _notes(sub)
        if not request and not required:
            notes = [nodes.Text('optional' + ('; ' if notes else ''))] + notes
        row = [[_literal(name)], type_nodes(document, sub, expanded)]
        if request:
            row.append([nodes.Text('yes' if required else 'no')])
        rows.append(row + [notes])
    header = [('field', 24), ('type', 36)] + (
        [('required', 9)] if request else []) + [('notes', 31)]
    return table(header, rows)


def body_nodes(document, schema, request):
    """A body: the table of its fields, or a sentence when it has none
    described."""
    schema = resolve(document, schema)
    inner, in_array = _object(document, schema)
    if inner is None:
        what = type_nodes(document, schema)
        if 'object' in _kinds(schema) and 'additionalProperties' not in schema:
            what.append(nodes.Text(', its fields not described'))
        return [nodes.paragraph('', '', nodes.Text('Body: '), *what,
                                nodes.Text('.'))]
    out = []
    if in_array:
        out.append(nodes.paragraph('', '', nodes.Text(
            'A JSON array of objects'), *_constraints(schema),
            nodes.Text(':')))
    out.append(fields_table(document, inner, request))
    if request and inner.get('additionalProperties') is False:
        out.append(nodes.paragraph(text='No other field is accepted.'))
    return out


def _status(code):
    try:
        return '%s %s' % (code, http.HTTPStatus(int(code)).phrase)
    except ValueError:
        return code


def _content_nodes(document, label, content, request):
    out = []
    for media, entry in content.items():
        out.append(_label(label, nodes.Text(' (%s):' % media)))
        if 'schema' in entry:
            out.extend(body_nodes(document, entry['schema'], request))
    return out


# -- the directive -----------------------------------------------------------

class MagnumOpenAPI(SphinxDirective):
    """``.. magnum-openapi::``: the whole reference, where it stands."""

    has_content = False

    def run(self):
        with warnings.catch_warnings():
            # NOTE: magnum's imports reach eventlet, which warns that it is
            # deprecated; that is no news for the reader of a build log.
            warnings.filterwarnings('ignore', r'\s*Eventlet is deprecated')
            from magnum.api import openapi
        self._note_dependencies()
        self.document = openapi.document()
        self.common = common_parameters(self.document)
        self.error = None
        out = [self._common_section()]
        tags = {}
        for tag, method, path, operation, params in operations(
                self.document):
            if tag not in tags:
                tags[tag] = self._section(tag)
                described = [t for t in self.document.get('tags', [])
                             if t.get('name') == tag]
                if described and described[0].get('description'):
                    tags[tag] += nodes.paragraph(
                        text=described[0]['description'])
                out.append(tags[tag])
            tags[tag] += self._operation(method, path, operation, params)
        return out

    def _note_dependencies(self):
        # NOTE: the description is made from the controllers, the views and
        # the models, so any of magnum's modules may change it.
        for name in sorted(sys.modules):
            module = sys.modules[name]
            path = getattr(module, '__file__', None)
            if (name == 'magnum' or name.startswith('magnum.')) and path:
                self.env.note_dependency(path)

    def _section(self, title, *inline):
        section = nodes.section()
        section += nodes.title(title, '', *(inline or [nodes.Text(title)]))
        section['names'].append(nodes.fully_normalize_name(title))
        self.state.document.note_implicit_target(section, section)
        return section

    def _common_section(self):
        document = self.document
        info = document.get('info', {})
        section = self._section('Every operation')
        self.common_id = section['ids'][0]
        section += nodes.paragraph(text='%s %s (OpenAPI %s). %s' % (
            info.get('title', ''), info.get('version', ''),
            document.get('openapi', ''), info.get('description', '')))
        schemes = document.get('components', {}).get('securitySchemes', {})
        for requirement in document.get('security', []):
            for name in requirement:
                scheme = schemes.get(name, {})
                section += _label('Credentials:', *self._scheme(
                    name, scheme, {} in document['security']))
        if self.common:
            section += _label('Parameters of every operation:')
            section += parameters_table(
                document, [{'$ref': ref} for ref in self.common])
        error = document.get('components', {}).get('responses', {}).get(
            'Error')
        if error is not None:
            self.error = error
            section += _label('Errors:', nodes.Text(
                ' ' + error.get('description', '') + '.'))
            section.extend(_content_nodes(
                document, 'Error body', error.get('content', {}), False))
        return section

    @staticmethod
    def _scheme(name, scheme, optional):
        if scheme.get('type') == 'apiKey':
            what = [nodes.Text(' the '), _literal(scheme.get('name', '')),
                    nodes.Text(' %s (%s)' % (scheme.get('in', ''), name))]
        else:
            what = [nodes.Text(' %s (%s)' % (scheme.get('type', ''), name))]
        if optional:
            what.append(nodes.Text(', or none where the API allows it'))
        return what + [nodes.Text('.')]

    def _operation(self, method, path, operation, params):
        document = self.document
        title = '%s %s' % (method.upper(), path)
        section = self._section(title, _literal(title))
        summary = operation.get('summary') or '(no summary)'
        section += nodes.paragraph(text=summary)
        if operation.get('description'):
            section += nodes.paragraph(text=operation['description'])
        if MIN_VERSION in operation:
            section += _label('Microversion:', nodes.Text(' '), _literal(
                operation[MIN_VERSION]), nodes.Text(' or later.'))
        if operation.get('deprecated'):
            section += _label('Deprecated.')
        own = [p for p in params if p.get('$ref') not in self.common]
        if own:
            section += _label('Parameters:')
            section += parameters_table(document, own)
        body = resolve(document, operation.get('requestBody'))
        if body:
            required = ', required' if body.get('required') else ''
            for media, entry in body.get('content', {}).items():
                section += _label('Request body', nodes.Text(
                    ' (%s%s):' % (media, required)))
                if 'schema' in entry:
                    section.extend(body_nodes(document, entry['schema'],
                                              True))
        errors = []
        for code, answer in operation.get('responses', {}).items():
            answer = resolve(document, answer)
            if not str(code).startswith(('1', '2', '3')):
                errors.append((str(code), answer))
                continue
            label = 'Answer %s' % _status(code)
            if answer.get('content'):
                section.extend(_content_nodes(
                    document, label, answer['content'], False))
            else:
                section += _label(label, nodes.Text(', no body.'))
        if errors:
            section += self._errors(sorted(errors, key=lambda e: e[0]))
        return section

    def _errors(self, errors):
        out = []
        for code, answer in errors:
            if out:
                out.append(nodes.Text(', '))
            out.append(_literal(code))
            if answer is not self.error and answer.get('description'):
                out.append(nodes.Text(' (%s)' % answer['description']))
        if any(answer is self.error for _code, answer in errors):
            link = nodes.reference('', 'the error form', internal=True,
                                   refid=self.common_id)
            out += [nodes.Text(', in '), link]
        return _label('Errors:', nodes.Text(' '), *out, nodes.Text('.'))


def setup(app):
    app.add_directive('magnum-openapi', MagnumOpenAPI)
    return {'version': '1.0', 'parallel_read_safe': True,
            'parallel_write_safe': True}
