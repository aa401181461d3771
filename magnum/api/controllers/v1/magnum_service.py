"""``/v1/mservices``: the conductors' heartbeats (admin only)."""

import datetime

from oslo_config import cfg
from oslo_utils import timeutils
import pecan

from magnum.api.controllers.v1 import collection
from magnum.common import policy
from magnum.objects import magnum_service

VIEW = collection.View(
    'mservices',
    short_fields=('id', 'host', 'binary', 'disabled', 'disabled_reason',
                  'report_count', 'created_at', 'updated_at'),
    detail_fields=('id', 'host', 'binary', 'disabled', 'disabled_reason',
                   'report_count', 'created_at', 'updated_at'),
    link_key=None)
SORT_KEYS = ('id', 'host', 'binary', 'report_count', 'created_at',
             'updated_at')


def state_of(row, now, down_time):
    seen = row.last_seen_up or row.updated_at or row.created_at
    if row.forced_down or seen is None:
        return 'down'
    return 'up' if now - seen <= down_time else 'down'


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
        down_time = datetime.timedelta(
            seconds=cfg.CONF.conductor.service_down_time)
        for row, item in zip(rows, body['mservices']):
            item['state'] = state_of(row, now, down_time)
        return body
