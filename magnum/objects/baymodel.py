from oslo_versionedobjects import fields

from magnum.db import baymodels as db_baymodels
from magnum.objects import base


@base.MagnumObjectRegistry.register
class BayModel(base.MagnumObject):
    # Version 1.0: initial version
    # Version 1.1: driver
    # Version 1.2: ssh_authorized_key
    VERSION = '1.2'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(),
        'name': fields.StringField(nullable=True),
        'coe': fields.StringField(),
        'image_id': fields.StringField(nullable=True),
        'flavor_id': fields.StringField(nullable=True),
        'master_flavor_id': fields.StringField(nullable=True),
        'keypair_id': fields.StringField(nullable=True),
        'external_network_id': fields.StringField(nullable=True),
        'fixed_network': fields.StringField(nullable=True),
        'fixed_subnet': fields.StringField(nullable=True),
        'network_driver': fields.StringField(nullable=True),
        'volume_driver': fields.StringField(nullable=True),
        'dns_nameserver': fields.StringField(nullable=True),
        'apiserver_port': fields.IntegerField(nullable=True),
        'docker_volume_size': fields.IntegerField(nullable=True),
        'docker_storage_driver': fields.StringField(nullable=True),
        'cluster_distro': fields.StringField(nullable=True),
        'http_proxy': fields.StringField(nullable=True),
        'https_proxy': fields.StringField(nullable=True),
        'no_proxy': fields.StringField(nullable=True),
        'registry_enabled': fields.BooleanField(default=False),
        'labels': fields.DictOfStringsField(nullable=True),
        'tls_disabled': fields.BooleanField(default=False),
        'public': fields.BooleanField(default=False),
        'server_type': fields.StringField(nullable=True),
        'insecure_registry': fields.StringField(nullable=True),
        'master_lb_enabled': fields.BooleanField(default=False),
        'floating_ip_enabled': fields.BooleanField(default=True),
        'hidden': fields.BooleanField(default=False),
        'tags': fields.StringField(nullable=True),
        'driver': fields.StringField(nullable=True),
        'ssh_authorized_key': fields.StringField(nullable=True),
    })

    @classmethod
    def get(cls, context, ident):
        """By UUID or name, as the caller may see it."""
        return cls.from_row(context, db_baymodels.get_baymodel(context, ident))

    @classmethod
    def get_by_uuid_unscoped(cls, context, uuid):
        return cls.from_row(context,
                            db_baymodels.get_baymodel_by_uuid_unscoped(uuid))

    @staticmethod
    def records(context, **query):
        """Plain rows for the API's reads; no object per row."""
        return db_baymodels.list_baymodels(context, **query)

    @staticmethod
    def record(context, ident):
        return db_baymodels.get_baymodel(context, ident)

    def create(self, context=None):
        values = self.obj_get_changes()
        self._context = context or self._context
        self._refresh(db_baymodels.create_baymodel(self._context, values))

    def save(self, context=None):
        changes = self.obj_get_changes()
        if changes:
            self._refresh(db_baymodels.update_baymodel(
                context or self._context, self.uuid, changes))

    def destroy(self, context=None):
        db_baymodels.destroy_baymodel(context or self._context, self.uuid)
