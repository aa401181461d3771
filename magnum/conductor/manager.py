"""The conductor's RPC endpoint: one method per call, each to its handler."""

import oslo_messaging as messaging

from magnum.conductor.handlers import bay as bay_handler


class ConductorManager:
    target = messaging.Target(version='1.0')

    def __init__(self, host):
        self.bays = bay_handler.BayHandler(host)

    def bay_create(self, context, bay):
        self.bays.bay_create(context, bay)

    def bay_update(self, context, bay):
        self.bays.bay_update(context, bay)

    def bay_delete(self, context, bay):
        self.bays.bay_delete(context, bay)
