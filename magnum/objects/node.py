"""Node: a server of a bay, recorded from its provisioner's outputs."""

from magnum.db import nodes as db_nodes


class Node:
    """Rows only: nodes never cross RPC, so there is no versioned object."""

    @staticmethod
    def records(context, **query):
        return db_nodes.list_nodes(context, **query)

    @staticmethod
    def record(context, ident):
        return db_nodes.get_node(context, ident)

    @staticmethod
    def create(context, values):
        return db_nodes.create_node(context, values)

    @staticmethod
    def of_bay(bay_uuid):
        return db_nodes.bay_nodes(bay_uuid)

    @staticmethod
    def replace_for_bay(bay_uuid, nodes):
        db_nodes.replace_bay_nodes(bay_uuid, nodes)
