"""NodeGroup and Quota: rows of the cluster era.

Rows only, like Node: they never cross RPC (the conductor reads a
cluster's node groups from the database under the cluster's lock).
"""

from magnum.db import cluster_api


class NodeGroup:

    @staticmethod
    def records(cluster_uuid, **query):
        return cluster_api.list_nodegroups(cluster_uuid, **query)

    @staticmethod
    def all_of(cluster_uuid):
        return cluster_api.all_nodegroups(cluster_uuid)

    @staticmethod
    def record(cluster_uuid, ident):
        return cluster_api.get_nodegroup(cluster_uuid, ident)

    @staticmethod
    def create(context, values):
        return cluster_api.create_nodegroup(context, values)

    @staticmethod
    def update(uuid, values):
        return cluster_api.update_nodegroup(uuid, values)

    @staticmethod
    def update_all_of(cluster_uuid, values):
        cluster_api.update_nodegroups_of_cluster(cluster_uuid, values)

    @staticmethod
    def destroy(uuid):
        cluster_api.destroy_nodegroup(uuid)


class Quota:

    RESOURCES = cluster_api.RESOURCES

    @staticmethod
    def records(context, **query):
        return cluster_api.list_quotas(context, **query)

    @staticmethod
    def record(project_id, resource):
        return cluster_api.get_quota(project_id, resource)

    @staticmethod
    def create(project_id, resource, hard_limit):
        return cluster_api.create_quota(project_id, resource, hard_limit)

    @staticmethod
    def update(project_id, resource, hard_limit):
        return cluster_api.update_quota(project_id, resource, hard_limit)

    @staticmethod
    def delete(project_id, resource):
        cluster_api.delete_quota(project_id, resource)


def stats(project_id=None):
    clusters, nodes = cluster_api.stats(project_id)
    return {'clusters': clusters, 'nodes': nodes}
