"""Helpers that make rows for unit tests."""

from magnum.lifecycle import actions
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj


def baymodel(context, **values):
    values.setdefault('name', 'bm')
    values.setdefault('coe', 'docker')
    values.setdefault('labels', {'provisioner': 'fake'})
    model = baymodel_obj.BayModel(context, **values)
    model.create(context)
    return model


def bay(context, baymodel, **values):
    values.setdefault('name', 'bay1')
    values.setdefault('provisioner', 'fake')
    values.setdefault('status', bay_obj.CREATE_IN_PROGRESS)
    values.setdefault('node_count', 1)
    values.setdefault('master_count', 1)
    record = bay_obj.Bay(context, baymodel_id=baymodel.uuid, **values)
    if values['status'] == bay_obj.CREATE_IN_PROGRESS:
        # NOTE: as the API makes one: the bay with its create action.
        actions.create(context, record)
    else:
        record.create(context)
    return record


def start(context, bay, kind, **kwargs):
    """Start an action on ``bay`` as the API does; returns the Action."""
    return actions.start(context, bay, kind, **kwargs)
