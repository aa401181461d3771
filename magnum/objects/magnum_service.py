from oslo_versionedobjects import fields

from magnum.db import api as db_api
from magnum.objects import base


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
        db_api.report_service(host, binary)

    @staticmethod
    def records(**query):
        return db_api.list_services(**query)
