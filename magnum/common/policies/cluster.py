"""Rules of the cluster era.

A ClusterTemplate is a BayModel and a Cluster a Bay, so each rule here
defaults to its bay-era twin (``rule:baymodel:create``...): one override
in a policy file governs both paths unless the operator splits them.
"""

from oslo_policy import policy

from magnum.common.policies import base


def _rule(name, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'path': path, 'method': method}])


_CT = '/v1/clustertemplates'
_CL = '/v1/clusters'
_NG = _CL + '/{cluster_ident}/nodegroups'

rules = [
    _rule('clustertemplate:create', 'rule:baymodel:create', 'POST', _CT,
          'Create a ClusterTemplate.'),
    _rule('clustertemplate:get', 'rule:baymodel:get', 'GET',
          _CT + '/{clustertemplate_ident}', 'Show a ClusterTemplate.'),
    _rule('clustertemplate:get_all', 'rule:baymodel:get_all', 'GET', _CT,
          'List ClusterTemplates.'),
    _rule('clustertemplate:get_all_all_projects',
          'rule:baymodel:get_all_all_projects', 'GET', _CT,
          'List the ClusterTemplates of all projects.'),
    _rule('clustertemplate:update', 'rule:baymodel:update', 'PATCH',
          _CT + '/{clustertemplate_ident}', 'Update a ClusterTemplate.'),
    _rule('clustertemplate:delete', 'rule:baymodel:delete', 'DELETE',
          _CT + '/{clustertemplate_ident}', 'Delete a ClusterTemplate.'),
    _rule('clustertemplate:publish', 'rule:baymodel:publish', 'POST', _CT,
          'Publish a ClusterTemplate (public=true), or change or delete a '
          'published one.'),
    _rule('cluster:create', 'rule:bay:create', 'POST', _CL,
          'Create a cluster.'),
    _rule('cluster:get', 'rule:bay:get', 'GET', _CL + '/{cluster_ident}',
          'Show a cluster.'),
    _rule('cluster:get_all', 'rule:bay:get_all', 'GET', _CL,
          'List clusters.'),
    _rule('cluster:get_all_all_projects', 'rule:bay:get_all_all_projects',
          'GET', _CL, 'List the clusters of all projects.'),
    _rule('cluster:update', 'rule:bay:update', 'PATCH',
          _CL + '/{cluster_ident}', 'Update (scale) a cluster.'),
    _rule('cluster:update_health_status', base.ADMIN_OR_OWNER, 'PATCH',
          _CL + '/{cluster_ident}',
          "Report a cluster's health (health_status and "
          'health_status_reason), as magnum-auto-healer does; a PATCH of '
          'the health alone needs only this rule.'),
    _rule('cluster:resize', 'rule:cluster:update', 'POST',
          _CL + '/{cluster_ident}/actions/resize', 'Resize a cluster.'),
    _rule('cluster:upgrade', 'rule:cluster:update', 'POST',
          _CL + '/{cluster_ident}/actions/upgrade',
          'Upgrade a cluster to another ClusterTemplate.'),
    _rule('cluster:delete', 'rule:bay:delete', 'DELETE',
          _CL + '/{cluster_ident}', 'Delete a cluster.'),
    _rule('cluster:action:get_all', 'rule:bay:action:get_all', 'GET',
          _CL + '/{cluster_ident}/actions',
          "List a cluster's actions: what was done to it, by whom, how it "
          'ended.'),
    _rule('cluster:action:get', 'rule:bay:action:get', 'GET',
          _CL + '/{cluster_ident}/actions/{action_uuid}',
          "Show one of a cluster's actions."),
    _rule('nodegroup:get', 'rule:cluster:get', 'GET',
          _NG + '/{nodegroup_ident}', 'Show a node group.'),
    _rule('nodegroup:get_all', 'rule:cluster:get', 'GET', _NG,
          "List a cluster's node groups."),
    _rule('nodegroup:create', 'rule:cluster:update', 'POST', _NG,
          'Add a node group to a cluster.'),
    _rule('nodegroup:update', 'rule:cluster:update', 'PATCH',
          _NG + '/{nodegroup_ident}', 'Update (scale) a node group.'),
    _rule('nodegroup:delete', 'rule:cluster:update', 'DELETE',
          _NG + '/{nodegroup_ident}', 'Delete a node group.'),
    _rule('quota:get', base.ADMIN_OR_READER, 'GET',
          '/v1/quotas/{project_id}/{resource}', "Show a project's quota."),
    _rule('quota:get_all', base.ADMIN_OR_READER, 'GET', '/v1/quotas',
          "List the caller's project's quotas."),
    _rule('quota:get_all_all_projects', base.ADMIN, 'GET', '/v1/quotas',
          'List the quotas of all projects (all_tenants=True).'),
    _rule('quota:create', base.ADMIN, 'POST', '/v1/quotas',
          'Set a quota.'),
    _rule('quota:update', base.ADMIN, 'PATCH',
          '/v1/quotas/{project_id}/{resource}', 'Change a quota.'),
    _rule('quota:delete', base.ADMIN, 'DELETE',
          '/v1/quotas/{project_id}/{resource}',
          'Remove a quota (back to the default).'),
    _rule('stats:get_all', base.ADMIN_OR_READER, 'GET', '/v1/stats',
          "A project's cluster and node counts."),
    _rule('stats:get_all_all_projects', base.ADMIN, 'GET', '/v1/stats',
          'The cluster and node counts of all projects.'),
    _rule('credential:rotate', 'rule:cluster:update', 'PATCH',
          '/v1/credentials/{cluster_ident}',
          "Rotate a cluster's credentials."),
]


def list_rules():
    return rules
