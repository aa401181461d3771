"""NodeGroup and Quota, of the cluster era.

A NodeGroup is a typed object (its status is one of the state machine's,
magnum/objects/states.py) for the domain, the conductor and the
provisioners, which read a cluster's groups under the cluster's lock
(``get``, ``list_of``); its verbs are magnum/lifecycle/nodegroups.py. The
API's reads for rendering and paging stay rows (``record``, ``records``),
as a Bay's do. Quotas are rows only.
"""

from oslo_versionedobjects import fields

from magnum.db import bays as db_bays
from magnum.db import nodegroups as db_nodegroups
from magnum.db import quotas as db_quotas
from magnum.objects import base
from magnum.objects import states

# The effects a node group's node_taints may have (Kubernetes').
TAINT_EFFECTS = ('NoSchedule', 'PreferNoSchedule', 'NoExecute')


@base.MagnumObjectRegistry.register
class NodeGroup(base.MagnumObject):
    # Version 1.0: initial version
    # Version 1.1: node_labels, node_taints
    VERSION = '1.1'

    fields = dict(base.MagnumObject.fields, **{
        'id': fields.IntegerField(),
        'uuid': fields.UUIDField(),
        'name': fields.StringField(),
        'cluster_id': fields.UUIDField(),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(),
        'role': fields.StringField(),
        'is_default': fields.BooleanField(),
        'node_count': fields.IntegerField(),
        'min_node_count': fields.IntegerField(),
        'max_node_count': fields.IntegerField(nullable=True),
        'flavor_id': fields.StringField(nullable=True),
        'image_id': fields.StringField(nullable=True),
        'docker_volume_size': fields.IntegerField(nullable=True),
        'labels': fields.DictOfStringsField(nullable=True),
        'node_labels': fields.DictOfStringsField(nullable=True),
        'node_taints': fields.ListOfDictOfNullableStringsField(
            nullable=True),
        'node_addresses': fields.ListOfStringsField(nullable=True),
        'status': states.BayStatusField(nullable=True),
        'status_reason': fields.StringField(nullable=True),
    })

    @classmethod
    def get(cls, context, cluster_uuid, ident):
        """The cluster's group ``ident`` (uuid or name)."""
        return cls.from_row(context, db_nodegroups.get_nodegroup(
            cluster_uuid, ident))

    @classmethod
    def list_of(cls, context, cluster_uuid):
        """Every group of the cluster, oldest first."""
        return [cls.from_row(context, row) for row in
                db_nodegroups.all_nodegroups(cluster_uuid)]

    @staticmethod
    def records(cluster_uuid, **query):
        return db_nodegroups.list_nodegroups(cluster_uuid, **query)

    @staticmethod
    def record(cluster_uuid, ident):
        return db_nodegroups.get_nodegroup(cluster_uuid, ident)

    @staticmethod
    def create(context, values):
        return db_nodegroups.create_nodegroup(context, values)

    @staticmethod
    def update(uuid, values):
        return db_nodegroups.update_nodegroup(uuid, values)

    @staticmethod
    def update_all_of(cluster_uuid, values):
        db_nodegroups.update_nodegroups_of_cluster(cluster_uuid, values)

    @staticmethod
    def destroy(uuid):
        db_nodegroups.destroy_nodegroup(uuid)


class Quota:

    RESOURCES = db_quotas.RESOURCES

    @staticmethod
    def records(context, **query):
        return db_quotas.list_quotas(context, **query)

    @staticmethod
    def record(project_id, resource):
        return db_quotas.get_quota(project_id, resource)

    @staticmethod
    def create(project_id, resource, hard_limit):
        return db_quotas.create_quota(project_id, resource, hard_limit)

    @staticmethod
    def update(project_id, resource, hard_limit):
        return db_quotas.update_quota(project_id, resource, hard_limit)

    @staticmethod
    def delete(project_id, resource):
        db_quotas.delete_quota(project_id, resource)


def stats(project_id=None):
    clusters, nodes = db_bays.stats(project_id)
    return {'clusters': clusters, 'nodes': nodes}
