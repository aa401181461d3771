"""``PATCH /v1/credentials/<cluster>``: rotate a cluster's credentials.

NOTE: Magnum here creates no Keystone trust per cluster (the heat
provisioner acts with the token of the user who asks), so a rotation is a
re-application of the cluster under its lock with the caller's current
credentials: the cluster goes UPDATE_IN_PROGRESS and a conductor updates
its stack. The answer is 202 with the cluster's uuid.
"""

import pecan

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.lifecycle import actions
from magnum.objects import bay as bay_obj


class CredentialsController(collection.CollectionController):

    _ITEM_METHODS = {'PATCH': 'patch'}
    _COLLECTION_METHODS = {}

    @pecan.expose('json')
    def patch(self, ident, **params):
        collection.change_query()
        context = pecan.request.context
        bay = access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                      'credential:rotate')
        action = actions.start(context, bay, 'rotate_credential')
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 202
        return {'uuid': bay.uuid}
