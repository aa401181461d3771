"""``/v1/stats``: how many clusters and nodes a project (or all) has."""

import pecan

from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import microversion
from magnum.common import exception
from magnum.common import policy
from magnum.objects import nodegroup as nodegroup_obj


class StatsController:

    @pecan.expose('json')
    def index(self, **params):
        collection.read_only()
        microversion.require(microversion.STATS, 'Statistics')
        context = pecan.request.context
        project_id = params.pop('project_id', None)
        kind = params.pop('type', 'cluster')
        collection.refuse_query(
            {k: v for k, v in params.items()
             if k not in ('all_tenants', 'all_projects')})
        for name, value in (('project_id', project_id), ('type', kind)):
            if isinstance(value, list):
                raise exception.InvalidParameterValue(
                    field=name, reason='the parameter is given more than '
                                       'once')
        if kind != 'cluster':
            raise exception.InvalidParameterValue(
                field='type', reason="%r is not 'cluster'" % kind)
        if project_id is None:
            # An admin sees all projects; anyone else their own.
            if policy.check(context, 'stats:get_all_all_projects'):
                policy.authorize(context, 'stats:get_all_all_projects')
            else:
                project_id = context.project_id
        policy.authorize(context, 'stats:get_all',
                         {'project_id': project_id or context.project_id})
        return nodegroup_obj.stats(project_id)
