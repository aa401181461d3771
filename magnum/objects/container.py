"""A container on a Docker or Swarm bay."""

import re

from oslo_versionedobjects import fields

from magnum.db import containers as db_containers
from magnum.objects import base
from magnum.objects import bay as bay_obj

CREATING = 'Creating'
RUNNING = 'Running'
STOPPED = 'Stopped'
PAUSED = 'Paused'
ERROR = 'Error'
UNKNOWN = 'Unknown'

STATUSES = (CREATING, RUNNING, STOPPED, PAUSED, ERROR, UNKNOWN)
# What a container's engine is asked to do by name
# (``PUT /v1/containers/<ident>/<action>``; ``execute`` and ``logs`` aside).
ACTIONS = ('start', 'stop', 'reboot', 'pause', 'unpause')

# ``memory`` as Docker takes it: a number of bytes with an optional unit.
MEMORY_PATTERN = re.compile(r'^([0-9]{1,15})([bkmg]?)$')
_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}


def memory_bytes(memory):
    """``512m`` -> 536870912; ValueError for anything else."""
    match = MEMORY_PATTERN.match(memory or '')
    if match is None:
        raise ValueError('%r is not a memory size such as 512m (a number '
                         'and an optional unit b, k, m or g)' % (memory,))
    return int(match.group(1)) * _UNITS[match.group(2)]


@base.MagnumObjectRegistry.register
class Container(base.MagnumObject):
    # Version 1.0: initial version
    VERSION = '1.0'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(),
        'name': fields.StringField(nullable=True),
        'image': fields.StringField(),
        'command': fields.StringField(nullable=True),
        'bay_uuid': fields.StringField(),
        'memory': fields.StringField(nullable=True),
        'environment': fields.DictOfStringsField(nullable=True),
        'labels': fields.DictOfStringsField(nullable=True),
        'status': fields.StringField(),
        'status_reason': fields.StringField(nullable=True),
        'container_id': fields.StringField(nullable=True),
    })

    def __repr__(self):
        # NOTE: environment values may be secrets, and a repr ends up in
        # logs: name the container only.
        uuid = self.uuid if self.obj_attr_is_set('uuid') else None
        return '<Container %s>' % uuid

    obj_repr = __repr__

    @classmethod
    def get(cls, context, ident):
        """By UUID or name, as the caller may see it."""
        return cls.from_row(context,
                            db_containers.get_container(context, ident))

    @classmethod
    def get_by_uuid_unscoped(cls, context, uuid):
        return cls.from_row(context,
                            db_containers.get_container_by_uuid_unscoped(uuid))

    @classmethod
    def list_of_bay(cls, context, bay_uuid):
        return [cls.from_row(context, row)
                for row in db_containers.list_containers_of_bay(bay_uuid)]

    @staticmethod
    def bays_with_containers(context):
        return [bay_obj.Bay.from_row(context, row)
                for row in db_containers.list_bays_with_containers()]

    @staticmethod
    def records(context, **query):
        return db_containers.list_containers(context, **query)

    @staticmethod
    def record(context, ident):
        return db_containers.get_container(context, ident)

    def create(self, context=None):
        self._context = context or self._context
        self._refresh(db_containers.create_container(self._context,
                                                     self.obj_get_changes()))

    def save(self, expected_status=None):
        """Write the changed fields; False if ``expected_status`` no longer
        holds (the row is then left as it is).
        """
        changes = self.obj_get_changes()
        if not changes:
            return True
        row = db_containers.update_container(self.uuid, changes,
                                             expected_status=expected_status)
        if row is None:
            return False
        self._refresh(row)
        return True

    def destroy(self):
        db_containers.destroy_container(self.uuid)
