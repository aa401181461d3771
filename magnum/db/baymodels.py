"""Database API of BayModels (the rows of ClusterTemplates too)."""

from oslo_db import exception as db_exc
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

BAYMODEL = api.BAYMODEL
BAY = api.BAY


def get_baymodel(context, ident):
    return api.get_one(context, BAYMODEL, ident,
                       lambda: exception.BayModelNotFound(baymodel=ident),
                       'baymodels', public=True)


def get_baymodel_by_uuid_unscoped(uuid):
    """For the conductor: the BayModel of a bay, whatever project it is in."""
    return api.get_by_key(BAYMODEL, uuid,
                          lambda: exception.BayModelNotFound(baymodel=uuid))


def list_baymodels(context, limit=None, marker=None, sort_key='id',
                   sort_dir='asc'):
    return api.list_page(context, BAYMODEL, 'baymodel', limit, marker,
                         sort_key, sort_dir, public=True)


def create_baymodel(context, values):
    values = api.new_row_values(context, values)
    return api.insert_returning(
        BAYMODEL, values,
        duplicate=lambda: exception.BayModelAlreadyExists(
            uuid=values['uuid']))


def update_baymodel(context, uuid, values):
    return api.update_returning(
        BAYMODEL, uuid, values,
        lambda: exception.BayModelNotFound(baymodel=uuid))


def destroy_baymodel(context, uuid):
    with api.writer() as session:
        count = session.execute(
            sa.select(sa.func.count()).select_from(BAY).where(
                BAY.c.baymodel_id == uuid)).scalar()
        if count:
            raise exception.BayModelReferenced(baymodel=uuid, count=count)
        try:
            result = session.execute(
                sa.delete(BAYMODEL).where(BAYMODEL.c.uuid == uuid))
        except db_exc.DBReferenceError:
            # A bay was created between the count and the delete.
            raise exception.BayModelReferenced(baymodel=uuid, count=1)
        if not result.rowcount:
            raise exception.BayModelNotFound(baymodel=uuid)
