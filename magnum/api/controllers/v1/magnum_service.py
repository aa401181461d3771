"""``/v1/mservices``: the conductors' heartbeats (admin only).

``state`` is ``up`` while a conductor's heartbeat is younger than ``[conductor]
service_down_time`` and it has not stopped cleanly. An operator takes a
conductor off the hash ring (it gets no new bays; the others take over its
share) with a JSON-patch of ``disabled`` and ``disabled_reason``::

    PATCH /v1/mservices/<id>
    [{"op": "replace", "path": "/disabled", "value": true},
     {"op": "add", "path": "/disabled_reason", "value": "kernel upgrade"}]
"""

from oslo_utils import timeutils
import pecan

from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.objects import magnum_service

FIELDS = ('id', 'host', 'binary', 'disabled', 'disabled_reason',
          'report_count', 'created_at', 'updated_at')
VIEW = collection.View('mservices', short_fields=FIELDS,
                       detail_fields=FIELDS, link_key=None)
SORT_KEYS = ('id', 'host', 'binary', 'report_count', 'created_at',
             'updated_at')
WRITABLE = ('disabled', 'disabled_reason')
REASON_MAX = 255


def _render(row, now=None):
    body = VIEW.render(row)
    body['state'] = magnum_service.state_of(row, now)
    return body


def _service_id(ident):
    # NOTE: ASCII digits only ("²" is a digit to str.isdigit, not to int)
    # and within the id column's range.
    if not (ident.isascii() and ident.isdigit()) or (
            int(ident) > types.INT32_MAX):
        raise exception.MagnumServiceNotFound(service=ident)
    return int(ident)


def _checked(after):
    """The changes of a patch, each checked; a 400 names the field."""
    if 'disabled' not in after:
        raise exception.InvalidParameterValue(
            field='disabled', reason='the field cannot be removed')
    if not isinstance(after['disabled'], bool):
        raise exception.InvalidParameterValue(
            field='disabled',
            reason='%r is not a boolean (true or false)' % (
                after['disabled'],))
    reason = after.get('disabled_reason')
    if reason is not None:
        if not isinstance(reason, str):
            raise exception.InvalidParameterValue(
                field='disabled_reason',
                reason='%r is not a string' % (reason,))
        types.check_text('disabled_reason', reason)
        if len(reason) > REASON_MAX:
            raise exception.InvalidParameterValue(
                field='disabled_reason',
                reason='at most %d characters' % REASON_MAX)
    return {'disabled': after['disabled'], 'disabled_reason': reason}


class MagnumServiceController(collection.CollectionController):

    @pecan.expose('json')
    def get_all(self, **params):
        context = pecan.request.context
        policy.authorize(context, 'magnum-service:get_all')
        query = collection.query(params, SORT_KEYS, marker_is_uuid=False)
        rows, more = collection.fetch(
            lambda _context, **q: magnum_service.MagnumService.records(**q),
            context, query)
        body = VIEW.render_page(rows, more, query, detail=True)
        now = timeutils.utcnow()
        for row, item in zip(rows, body['mservices']):
            item['state'] = magnum_service.state_of(row, now)
        return body

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        policy.authorize(context, 'magnum-service:get')
        return _render(magnum_service.MagnumService.record(
            _service_id(ident)))

    @pecan.expose('json')
    def patch(self, ident):
        context = pecan.request.context
        policy.authorize(context, 'magnum-service:update')
        patch = json_patch.check(types.json_body(), WRITABLE)
        service_id = _service_id(ident)
        row = magnum_service.MagnumService.record(service_id)
        before = {'disabled': row.disabled,
                  'disabled_reason': row.disabled_reason}
        after = json_patch.apply(before, patch, WRITABLE)
        values = _checked(after)
        if not values['disabled'] and 'disabled_reason' not in (
                json_patch.changed(before, after)):
            # NOTE: enabling it again clears the reason it was disabled for.
            values['disabled_reason'] = None
        return _render(magnum_service.MagnumService.update_record(
            service_id, values))
