import datetime

from oslo_config import cfg
from oslo_utils import timeutils
from oslo_versionedobjects import fields

from magnum.db import services as db_services
from magnum.objects import base

CONDUCTOR = 'magnum-conductor'
UP = 'up'
DOWN = 'down'


def state_of(row, now=None, down_time=None):
    """``up`` or ``down``: a heartbeat within ``service_down_time`` (seconds)
    and not ``forced_down`` (a service that stopped cleanly says so).
    """
    now = now or timeutils.utcnow()
    if down_time is None:
        down_time = cfg.CONF.conductor.service_down_time
    seen = row.last_seen_up or row.updated_at or row.created_at
    if row.forced_down or seen is None:
        return DOWN
    seen = seen.replace(tzinfo=None)
    return UP if now - seen <= datetime.timedelta(seconds=down_time) else DOWN


@base.MagnumObjectRegistry.register
class MagnumService(base.MagnumObject):
    # Version 1.0: initial version
    VERSION = '1.0'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'host': fields.StringField(),
        'binary': fields.StringField(),
        'disabled': fields.BooleanField(),
        'disabled_reason': fields.StringField(nullable=True),
        'last_seen_up': fields.DateTimeField(nullable=True),
        'forced_down': fields.BooleanField(),
        'report_count': fields.IntegerField(),
    })

    @staticmethod
    def report(host, binary):
        db_services.report_service(host, binary)

    @staticmethod
    def leave(host, binary):
        db_services.leave_service(host, binary)

    @staticmethod
    def records(**query):
        return db_services.list_services(**query)

    @staticmethod
    def record(service_id):
        return db_services.get_service(service_id)

    @staticmethod
    def update_record(service_id, values):
        return db_services.update_service(service_id, values)

    @staticmethod
    def conductors():
        """Every conductor's heartbeat row."""
        return db_services.list_services_of(CONDUCTOR)
