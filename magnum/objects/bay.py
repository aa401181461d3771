from oslo_utils import versionutils
from oslo_versionedobjects import fields

from magnum.common import exception
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.db import certificates as db_certificates
from magnum.objects import base
from magnum.objects import states
# NOTE: the statuses and their sets live in magnum/objects/states.py; the
# names stay here too, where the callers of before find them.
from magnum.objects.states import (  # noqa: F401
    CA_ROTATABLE, CREATE_COMPLETE, CREATE_FAILED, CREATE_IN_PROGRESS,
    DELETABLE, DELETE_COMPLETE, DELETE_FAILED, DELETE_IN_PROGRESS,
    IN_PROGRESS, STATUSES, UPDATABLE, UPDATE_COMPLETE, UPDATE_FAILED,
    UPDATE_IN_PROGRESS)


@base.MagnumObjectRegistry.register
class Bay(base.MagnumObject):
    # Version 1.0: initial version
    # Version 1.1: the cluster era: keypair, flavors, labels, health...
    # Version 1.2: driven_at
    # Version 1.3: status typed; rollback and driven_at gone (the bay's
    #              actions hold what was asked)
    VERSION = '1.3'

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
        'status': states.BayStatusField(),
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
    })

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        version = versionutils.convert_version_to_tuple(target_version)
        if (1, 2) <= version < (1, 3):
            # NOTE: a conductor of before drives the bay's current action
            # again: what it finds in the row is the whole desired state.
            primitive['driven_at'] = None

    @classmethod
    def get(cls, context, ident):
        return cls.from_row(context, db_bays.get_bay(context, ident))

    @classmethod
    def get_by_uuid_unscoped(cls, context, uuid):
        return cls.from_row(context, db_bays.get_bay_by_uuid_unscoped(uuid))

    @classmethod
    def list_by_status(cls, context, statuses):
        return [cls.from_row(context, row)
                for row in db_bays.list_bays_by_status(statuses)]

    @staticmethod
    def count_using(context, baymodel_uuid):
        return db_bays.count_bays_using(baymodel_uuid)

    @staticmethod
    def records(context, template_labels=False, **query):
        """A page of rows; with ``template_labels``, each row has its
        template's labels as ``template_labels`` too (read in the same
        query)."""
        return db_bays.list_bays(context, template_labels=template_labels,
                                 **query)

    @staticmethod
    def record(context, ident, template_labels=False):
        """One row (see ``records`` for ``template_labels``)."""
        return db_bays.get_bay(context, ident, template_labels)

    @staticmethod
    def ca_cert(bay_uuid):
        """The bay's CA certificate (PEM), read without any key (the keys
        are the conductor's: magnum/objects/bay_tls.py)."""
        row = db_certificates.get_bay_certificate(bay_uuid)
        if row is None:
            raise exception.BayHasNoCA(bay=bay_uuid)
        return row.ca_cert

    def create(self, context=None, action=None, idempotency=None,
               nodegroups=()):
        """Insert the bay (and ``action``, the values of its create
        action, ``idempotency``, the key that asked for it, and
        ``nodegroups``, the values of its default node groups, in the same
        transaction)."""
        self._context = context or self._context
        self._refresh(db_bays.create_bay(self._context,
                                         self.obj_get_changes(), action,
                                         idempotency, nodegroups))

    def save(self, expected_statuses=None, unlocked=False, holder=None):
        """Write the changed fields with one conditional UPDATE."""
        changes = self.obj_get_changes()
        if changes:
            self._refresh(db_bays.update_bay(
                self.uuid, changes, expected_statuses=expected_statuses,
                unlocked=unlocked, holder=holder))

    def save_with_action(self, action_uuid, action_values, nodegroups=(),
                         holder=None):
        """Write the changed fields, the action's progress and node-group
        changes in one transaction, while ``holder`` holds the bay."""
        self._refresh(db_actions.record(
            self.uuid, holder, self.obj_get_changes(), action_uuid,
            action_values, nodegroups))

    def destroy(self, holder=None):
        db_bays.destroy_bay(self.uuid, holder=holder)
