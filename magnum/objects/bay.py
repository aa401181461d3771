from oslo_utils import versionutils
from oslo_versionedobjects import fields

from magnum.db import api as db_api
from magnum.objects import base

CREATE_IN_PROGRESS = 'CREATE_IN_PROGRESS'
CREATE_COMPLETE = 'CREATE_COMPLETE'
CREATE_FAILED = 'CREATE_FAILED'
UPDATE_IN_PROGRESS = 'UPDATE_IN_PROGRESS'
UPDATE_COMPLETE = 'UPDATE_COMPLETE'
UPDATE_FAILED = 'UPDATE_FAILED'
DELETE_IN_PROGRESS = 'DELETE_IN_PROGRESS'
DELETE_COMPLETE = 'DELETE_COMPLETE'
DELETE_FAILED = 'DELETE_FAILED'

STATUSES = (CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED,
            UPDATE_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED,
            DELETE_IN_PROGRESS, DELETE_COMPLETE, DELETE_FAILED)
IN_PROGRESS = (CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS, DELETE_IN_PROGRESS)
# A CA is rotated only on a bay that is up, and not while it changes.
CA_ROTATABLE = (CREATE_COMPLETE, UPDATE_COMPLETE)
# A bay in one of these may be updated. Failed bays may always be retried.
UPDATABLE = (CREATE_COMPLETE, UPDATE_COMPLETE, CREATE_FAILED, UPDATE_FAILED,
             DELETE_FAILED)
# Everything but an ongoing delete may be deleted, so nothing stays stuck.
DELETABLE = tuple(s for s in STATUSES if s != DELETE_IN_PROGRESS)


@base.MagnumObjectRegistry.register
class Bay(base.MagnumObject):
    # Version 1.0: initial version
    # Version 1.1: the cluster era: keypair, flavors, labels, health...
    # Version 1.2: driven_at
    VERSION = '1.2'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(),
        'name': fields.StringField(nullable=True),
        'baymodel_id': fields.StringField(),
        'provisioner': fields.StringField(),
        'node_count': fields.IntegerField(),
        'master_count': fields.IntegerField(),
        'bay_create_timeout': fields.IntegerField(nullable=True),
        'discovery_url': fields.StringField(nullable=True),
        'status': fields.StringField(),
        'status_reason': fields.StringField(nullable=True),
        'api_address': fields.StringField(nullable=True),
        'node_addresses': fields.ListOfStringsField(nullable=True),
        'master_addresses': fields.ListOfStringsField(nullable=True),
        'stack_id': fields.StringField(nullable=True),
        'reservation': fields.StringField(nullable=True),
        'keypair': fields.StringField(nullable=True),
        'docker_volume_size': fields.IntegerField(nullable=True),
        'labels': fields.DictOfStringsField(nullable=True),
        'master_flavor_id': fields.StringField(nullable=True),
        'flavor_id': fields.StringField(nullable=True),
        'fixed_network': fields.StringField(nullable=True),
        'fixed_subnet': fields.StringField(nullable=True),
        'floating_ip_enabled': fields.BooleanField(nullable=True),
        'master_lb_enabled': fields.BooleanField(nullable=True),
        'health_status': fields.StringField(nullable=True),
        'health_status_reason': fields.DictOfNullableStringsField(
            nullable=True),
        'coe_version': fields.StringField(nullable=True),
        'container_version': fields.StringField(nullable=True),
        # {field: value before} for a resize or upgrade asked with
        # ?rollback=True; a failure writes them back.
        'rollback': fields.DictOfNullableStringsField(nullable=True),
        # When a conductor gave the current action to the provisioner; None
        # while it waits for one (a provisioner's finished answer for the
        # same kind of action is then an older one's).
        'driven_at': fields.DateTimeField(nullable=True),
    })

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 2):
            primitive.pop('driven_at', None)

    @classmethod
    def get(cls, context, ident):
        return cls.from_row(context, db_api.get_bay(context, ident))

    @classmethod
    def get_by_uuid_unscoped(cls, context, uuid):
        return cls.from_row(context, db_api.get_bay_by_uuid_unscoped(uuid))

    @classmethod
    def list_by_status(cls, context, statuses):
        return [cls.from_row(context, row)
                for row in db_api.list_bays_by_status(statuses)]

    @staticmethod
    def count_using(context, baymodel_uuid):
        return db_api.count_bays_using(baymodel_uuid)

    @staticmethod
    def records(context, **query):
        return db_api.list_bays(context, **query)

    @staticmethod
    def record(context, ident):
        return db_api.get_bay(context, ident)

    def create(self, context=None):
        self._context = context or self._context
        self._refresh(db_api.create_bay(self._context,
                                        self.obj_get_changes()))

    def save(self, expected_statuses=None, unlocked=False, holder=None):
        """Write the changed fields with one conditional UPDATE."""
        changes = self.obj_get_changes()
        if changes:
            self._refresh(db_api.update_bay(
                self.uuid, changes, expected_statuses=expected_statuses,
                unlocked=unlocked, holder=holder))

    def destroy(self, holder=None):
        db_api.destroy_bay(self.uuid, holder=holder)
