"""Action: one change a user asked of a bay, and how it went.

Every change to a bay is an action of a named ``kind``, with the
parameters that were asked (``params``, JSON with its types). The API
writes it PENDING, in the transaction that moves the bay to its
``*_IN_PROGRESS`` status; the conductor hands it to the provisioner's verb
of the same name under the bay's lock, and it is IN_PROGRESS from the
moment the provisioner has it until it ends COMPLETE, FAILED or
ROLLED_BACK (a failure undone as ``?rollback=True`` asked).
"""

import json

from oslo_versionedobjects import fields

from magnum.db import actions as db_actions
from magnum.objects import base
from magnum.objects import states

CREATE = 'create'
UPDATE = 'update'
RESIZE = 'resize'
UPGRADE = 'upgrade'
DELETE = 'delete'
NODEGROUP_CREATE = 'nodegroup_create'
NODEGROUP_UPDATE = 'nodegroup_update'
NODEGROUP_DELETE = 'nodegroup_delete'
ROTATE_CA = 'rotate_ca'
ROTATE_CREDENTIAL = 'rotate_credential'
KINDS = (CREATE, UPDATE, RESIZE, UPGRADE, DELETE, NODEGROUP_CREATE,
         NODEGROUP_UPDATE, NODEGROUP_DELETE, ROTATE_CA, ROTATE_CREDENTIAL)

PENDING = 'PENDING'
IN_PROGRESS = 'IN_PROGRESS'
COMPLETE = 'COMPLETE'
FAILED = 'FAILED'
ROLLED_BACK = 'ROLLED_BACK'
STATUSES = (PENDING, IN_PROGRESS, COMPLETE, FAILED, ROLLED_BACK)
# Not finished: the reconciler follows these.
OPEN = (PENDING, IN_PROGRESS)

# The operation each kind is for its bay: the bay's status while it runs
# is that operation's IN_PROGRESS.
OPERATION = dict({kind: 'update' for kind in KINDS},
                 create='create', delete='delete')
# The kinds that may be asked with ?rollback=True.
ROLLBACKABLE = (UPDATE, RESIZE, UPGRADE, NODEGROUP_CREATE, NODEGROUP_UPDATE)


def end_status(bay_status, rolled_back=False):
    """The action's status once its bay's operation ended in
    ``bay_status``."""
    if not states.is_failed(bay_status):
        return COMPLETE
    return ROLLED_BACK if rolled_back else FAILED


class _JSON(fields.FieldType):
    """A JSON document: dicts, lists, strings, numbers, booleans, None."""

    def coerce(self, obj, attr, value):
        try:
            return json.loads(json.dumps(value))
        except (TypeError, ValueError):
            raise ValueError('%s is not a JSON document' % attr)

    def to_primitive(self, obj, attr, value):
        return value

    def from_primitive(self, obj, attr, value):
        return value


class JSONField(fields.AutoTypedField):
    AUTO_TYPE = _JSON()


@base.MagnumObjectRegistry.register
class Action(base.MagnumObject):
    # Version 1.0: initial version
    VERSION = '1.0'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'bay_uuid': fields.UUIDField(),
        'kind': fields.EnumField(valid_values=KINDS),
        'params': JSONField(nullable=True),
        'request_id': fields.StringField(nullable=True),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(nullable=True),
        'status': fields.EnumField(valid_values=STATUSES),
        'status_reason': fields.StringField(nullable=True),
        'conductor': fields.StringField(nullable=True),
        'started_at': fields.DateTimeField(nullable=True),
        'finished_at': fields.DateTimeField(nullable=True),
    })

    def param(self, name, default=None):
        return (self.params or {}).get(name, default)

    @property
    def is_open(self):
        return self.status in OPEN

    @classmethod
    def get(cls, context, uuid):
        return cls.from_row(context, db_actions.get(uuid))

    @classmethod
    def open_of(cls, context, bay_uuid):
        """The bay's unfinished action, or None."""
        row = db_actions.open_of(bay_uuid)
        return None if row is None else cls.from_row(context, row)

    @staticmethod
    def records(bay_uuid, **query):
        return db_actions.list_of(bay_uuid, **query)

    @staticmethod
    def record(bay_uuid, uuid):
        return db_actions.get_of(bay_uuid, uuid)
