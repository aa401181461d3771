"""Node: a server of a bay, recorded from its provisioner's outputs."""

from magnum.db import api as db_api


class Node:
    """Rows only: nodes never cross RPC, so there is no versioned object."""

    @staticmethod
    def records(context, **query):
        return db_api.list_nodes(context, **query)

    @staticmethod
    def record(context, ident):
        return db_api.get_node(context, ident)

    @staticmethod
    def create(context, values):
        return db_api.create_node(context, values)

    @staticmethod
    def of_bay(bay_uuid):
        return db_api.bay_nodes(bay_uuid)

    @staticmethod
    def replace_for_bay(bay_uuid, nodes):
        db_api.replace_bay_nodes(bay_uuid, nodes)
