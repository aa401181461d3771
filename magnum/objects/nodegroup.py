"""NodeGroup and Quota: rows of the cluster era.

Rows only, like Node: they never cross RPC (the conductor reads a
cluster's node groups from the database under the cluster's lock).
"""

from magnum.db import bays as db_bays
from magnum.db import nodegroups as db_nodegroups
from magnum.db import quotas as db_quotas


class NodeGroup:

    @staticmethod
    def records(cluster_uuid, **query):
        return db_nodegroups.list_nodegroups(cluster_uuid, **query)

    @staticmethod
    def all_of(cluster_uuid):
        return db_nodegroups.all_nodegroups(cluster_uuid)

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
