"""What every collection shares: query parameters, links, paging, output."""

import operator
from urllib import parse

from oslo_config import cfg
from oslo_utils import uuidutils
import pecan
import webob.exc

from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import types
from magnum.common import exception

_COMMON_PARAMS = ('limit', 'marker', 'sort_key', 'sort_dir', 'all_projects',
                  'all_tenants')
# How a query string says yes and no, in any case (python-magnumclient
# sends str(True)).
TRUE = ('1', 'true', 'yes', 'on')
FALSE = ('0', 'false', 'no', 'off', '')
# NOTE: ?rollback= has always taken fewer words than the other flags
# ('on', 'off' and an empty value are a 400), and said so in its own words.
_ROLLBACK_WORDS = (('true', '1', 'yes'), ('false', '0', 'no'))


def read_only():
    """Version documents are read, never written."""
    if pecan.request.method not in ('GET', 'HEAD'):
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%s is not allowed here; use GET' % pecan.request.method,
            headers=[('Allow', 'GET, HEAD')])


def links(collection, ident=None):
    base = pecan.request.host_url
    suffix = collection if ident is None else '%s/%s' % (collection, ident)
    return [{'href': '%s/v1/%s' % (base, suffix), 'rel': 'self'},
            {'href': '%s/%s' % (base, suffix), 'rel': 'bookmark'}]


def query(params, sort_keys, marker_is_uuid=True, extra=()):
    """Checked limit, marker, sort_key and sort_dir from a query string.

    Unknown parameters are refused, so a typo is never silently ignored.
    """
    unknown = sorted(set(params) - set(_COMMON_PARAMS) - set(extra))
    if unknown:
        raise exception.InvalidParameterValue(
            field=unknown[0], reason='unknown query parameter')
    for name, value in params.items():
        if isinstance(value, list):
            raise exception.InvalidParameterValue(
                field=name, reason='the parameter is given more than once')
    limit = params.get('limit')
    max_limit = cfg.CONF.api.max_limit
    if limit is None or limit == '':
        limit = max_limit
    else:
        try:
            limit = int(limit)
        except ValueError:
            raise exception.InvalidParameterValue(
                field='limit', reason='%r is not an integer' % limit)
        if limit <= 0:
            raise exception.InvalidParameterValue(
                field='limit', reason='it must be positive')
        limit = min(limit, max_limit)
    marker = params.get('marker')
    if marker is not None:
        if marker_is_uuid and not uuidutils.is_uuid_like(marker):
            raise exception.InvalidParameterValue(
                field='marker', reason='%r is not a UUID' % marker)
        if not marker_is_uuid:
            try:
                marker = int(marker)
            except ValueError:
                raise exception.InvalidParameterValue(
                    field='marker', reason='%r is not an id' % marker)
            if not 0 <= marker <= types.INT32_MAX:
                raise exception.InvalidParameterValue(
                    field='marker', reason='%d is no id' % marker)
    sort_key = params.get('sort_key') or 'id'
    if sort_key not in sort_keys:
        raise exception.InvalidParameterValue(
            field='sort_key', reason='%r is not one of %s'
            % (sort_key, ', '.join(sorted(sort_keys))))
    sort_dir = (params.get('sort_dir') or 'asc').lower()
    if sort_dir not in ('asc', 'desc'):
        raise exception.InvalidParameterValue(
            field='sort_dir', reason="%r is not 'asc' or 'desc'" % sort_dir)
    return {'limit': limit, 'marker': marker, 'sort_key': sort_key,
            'sort_dir': sort_dir}


def query_string():
    """The query parameters alone (a repeated one as a list).

    NOTE: pecan hands a handler the JSON body's top-level keys as keyword
    arguments too; handlers of a JSON body read the query string here.
    """
    values = {}
    for name, value in pecan.request.GET.items():
        if name in values:
            previous = values[name]
            values[name] = (previous if isinstance(previous, list)
                            else [previous]) + [value]
        else:
            values[name] = value
    return values


def refuse_query(params):
    """For calls that take no query parameters: name the first one given."""
    if params:
        raise exception.InvalidParameterValue(
            field=sorted(params)[0], reason='unknown query parameter')


def flag(params, name, default=False, words=(TRUE, FALSE),
         reason='%r is not true or false'):
    """Take the flag ``name`` out of ``params``: True or False, or
    ``default`` when it is not given. Given twice, or as none of
    ``words`` (the words for true, then those for false), it is a 400
    naming it, with ``reason``.
    """
    value = params.pop(name, None)
    if value is None:
        return default
    true, false = words
    if isinstance(value, list) or value.lower() not in true + false:
        raise exception.InvalidParameterValue(field=name,
                                              reason=reason % (value,))
    return value.lower() in true


def rollback_param(params):
    """``?rollback=True``: undo a failed change (API version 1.3)."""
    rollback = flag(params, 'rollback', None, _ROLLBACK_WORDS,
                    '%r is not True or False')
    if rollback is None:
        return False
    microversion.require(microversion.ROLLBACK, 'rollback')
    return rollback


def change_query(rollback=False):
    """The query string of a change, which takes nothing but, where
    ``rollback`` allows it, ``?rollback=``: returns that flag."""
    params = query_string()
    wanted = rollback_param(params) if rollback else False
    refuse_query(params)
    return wanted


def fetch(records, context, params):
    """Rows of one page plus whether more remain (one row read ahead)."""
    page = dict(params, limit=params['limit'] + 1)
    rows = records(context, **page)
    return rows[:params['limit']], len(rows) > params['limit']


def page(name, items, rows, more, params, key='uuid'):
    """A page's body: ``items`` (the ``rows`` as shown) under ``name``
    and, while ``more`` remain, the link to the next page, whose marker is
    the last row's ``key``."""
    body = {name: items}
    if more and rows:
        body['next'] = next_link(params, rows[-1]._mapping[key])
    return body


def timestamp(value):
    """A stored (naive UTC) time as the API shows it, or None."""
    return None if value is None else value.isoformat() + '+00:00'


def next_link(params, last_marker):
    request = pecan.request
    query_args = dict(request.GET.items())
    query_args.update(limit=params['limit'], marker=last_marker)
    return '%s?%s' % (request.path_url, parse.urlencode(query_args))


class View:
    """How one resource's rows are shown: its short and its full form.

    Built once per resource; ``render`` reads each row's fields straight
    from the database row with no per-attribute type layer, because that is
    where APIs of this kind spend their time on large lists.
    """

    TIMESTAMPS = ('created_at', 'updated_at')

    def __init__(self, collection, short_fields, detail_fields,
                 link_key='uuid', renames=None):
        """``renames``: {field shown: column} where the two differ (the
        cluster era shows the bay's columns under their later names)."""
        renames = renames or {}
        self.collection = collection
        self.short = tuple((name, renames.get(name, name))
                           for name in short_fields)
        self.detail = tuple((name, renames.get(name, name))
                            for name in detail_fields)
        self.link_key = link_key
        self._names = {detail: tuple(name for name, _ in fields)
                       for detail, fields in ((False, self.short),
                                              (True, self.detail))}

    def picker(self, detail, keys):
        """A function from a row whose columns are ``keys`` to its shown
        values, in the order of the view's fields, then its ``link_key``.

        NOTE: made once a page: a row's ``_mapping``, made for each row and
        read a field at a time, was a tenth of a detail list's time; a
        tuple picked by position costs half as much.
        """
        index = {key: i for i, key in enumerate(keys)}
        fields = self.detail if detail else self.short
        positions = [index[column] for _, column in fields]
        if self.link_key is not None:
            positions.append(index[self.link_key])
        if len(positions) == 1:
            (position,) = positions
            return lambda row: (row[position],)
        return operator.itemgetter(*positions)

    def render(self, row, detail=True, base=None, pick=None):
        """``row`` as shown; ``pick``: the page's ``picker``, if any."""
        if pick is None:
            # One row: by name (a picker costs more to make than to use).
            values = row._mapping
            fields = self.detail if detail else self.short
            body = {name: values[column] for name, column in fields}
            ident = None if self.link_key is None else values[self.link_key]
        else:
            values = pick(row)
            body = dict(zip(self._names[detail], values))
            ident = values[-1]
        for name in self.TIMESTAMPS:
            if name in body:
                body[name] = timestamp(body[name])
        if self.link_key is None:
            return body
        if base is None:
            base = pecan.request.host_url
        suffix = '%s/%s' % (self.collection, ident)
        body['links'] = [
            {'href': '%s/v1/%s' % (base, suffix), 'rel': 'self'},
            {'href': '%s/%s' % (base, suffix), 'rel': 'bookmark'}]
        return body

    def render_page(self, rows, more, params, detail, render=None):
        """One page of rows, each shown by ``render(row, detail, base,
        pick)`` (``self.render`` unless given; ``pick``: the page's
        ``picker``, its rows' columns being the same)."""
        base = pecan.request.host_url
        render = render or self.render
        pick = self.picker(detail, rows[0]._fields) if rows else None
        return page(self.collection,
                    [render(row, detail, base, pick) for row in rows], rows,
                    more, params, self.link_key or 'id')


class Router:
    """Which of this object's handlers serves a request.

    NOTE: routed by hand: pecan's RestController inspects every handler's
    signature on each request, which cost about 0.6 ms a request here, a
    third of a GET.
    """

    _ITEM_METHODS = {'GET': 'get_one', 'PATCH': 'patch', 'DELETE': 'delete'}
    _COLLECTION_METHODS = {'GET': 'get_all', 'POST': 'post'}

    def _methods(self, rest, request):
        """({HTTP method: handler name}, the handler's arguments) for
        ``rest``, the path below a collection (at most one part): the
        collection, its detail list or one item.

        NOTE: without a detail list, ``detail`` is an item's name.
        """
        if not rest:
            return self._COLLECTION_METHODS, []
        if (rest == ['detail'] and request.method in ('GET', 'HEAD')
                and getattr(self, 'detail', None) is not None):
            return {'GET': 'detail'}, []
        return self._ITEM_METHODS, rest

    def _handler(self, methods, request):
        name = methods.get(request.method)
        if name is None and request.method == 'HEAD':
            # A HEAD is the GET without its body (the server drops it).
            name = methods.get('GET')
        handler = getattr(self, name or '', None)
        if handler is not None:
            return handler
        allowed = self._allowed(methods)
        if not allowed:
            # NOTE: a 405 must list what is allowed; where nothing is, there
            # is no resource (a 404), and the message says where they are.
            raise webob.exc.HTTPNotFound(
                detail=self._nothing_at(methods, request))
        raise webob.exc.HTTPMethodNotAllowed(
            detail='%s is not allowed here; use %s'
            % (request.method, ', '.join(allowed)),
            headers=[('Allow', ', '.join(allowed))])

    def _allowed(self, methods):
        return [method for method, name in methods.items()
                if getattr(self, name, None) is not None]

    def _nothing_at(self, methods, request):
        """The 404 text for a path that serves no method: at a collection
        that serves only its items, the requests its items take."""
        path = request.path.rstrip('/')
        items = self._allowed(self._ITEM_METHODS)
        if methods is not self._COLLECTION_METHODS or not items:
            return 'No resource at %s' % path
        return 'No resource at %s; use %s %s/<ident>' % (
            path, ', '.join(items), path)


class CollectionController(Router):
    """``/v1/<plural>``: list, detail, show, create, update and delete.

    Subclasses define any of ``get_all``, ``detail``, ``get_one``, ``post``,
    ``patch`` and ``delete`` (each ``@pecan.expose``d), and
    ``_route_extra(args, request)`` for deeper paths.
    """

    @pecan.expose()
    def _route(self, args, request):
        args = [arg for arg in args if arg != '']
        if len(args) > 1:
            return self._route_extra(args, request)
        methods, args = self._methods(args, request)
        return self._handler(methods, request), args

    def _route_extra(self, args, request):
        raise webob.exc.HTTPNotFound(
            detail='No resource at %s' % request.path)


class ListedCollectionController(CollectionController):
    """A collection whose list and detail differ only in the fields shown:
    subclasses define ``_list(detail, params)``.
    """

    @pecan.expose('json')
    def get_all(self, **params):
        return self._list(False, params)

    @pecan.expose('json')
    def detail(self, **params):
        return self._list(True, params)
