"""Database API of containers."""

from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

BAY = api.BAY
CONTAINER = api.CONTAINER


def get_container(context, ident):
    return api.get_one(context, CONTAINER, ident,
                       lambda: exception.ContainerNotFound(container=ident),
                       'containers')


def get_container_by_uuid_unscoped(uuid):
    return api.get_by_key(CONTAINER, uuid,
                          lambda: exception.ContainerNotFound(container=uuid))


def list_containers(context, limit=None, marker=None, sort_key='id',
                    sort_dir='asc', bay_uuid=None):
    """A page of the caller's containers, of one bay if ``bay_uuid``."""
    return api.list_page(context, CONTAINER, 'container', limit, marker,
                         sort_key, sort_dir,
                         equal=None if bay_uuid is None else {
                             'bay_uuid': bay_uuid})


def list_containers_of_bay(bay_uuid):
    """Every container of a bay, of any project (for the reconciler)."""
    with api.reader() as session:
        return session.execute(
            sa.select(CONTAINER).where(CONTAINER.c.bay_uuid == bay_uuid)
            .order_by(CONTAINER.c.id)).all()


def list_bays_with_containers():
    """The bays that have at least one container (for the reconciler)."""
    with api.reader() as session:
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid.in_(
                sa.select(CONTAINER.c.bay_uuid).distinct()))
            .order_by(BAY.c.id)).all()


def create_container(context, values):
    values = api.new_row_values(context, values)
    return api.insert_returning(
        CONTAINER, values,
        duplicate=lambda: exception.ContainerAlreadyExists(
            uuid=values['uuid']),
        reference=lambda: exception.BayNotFound(bay=values.get('bay_uuid')))


def update_container(uuid, values, expected_status=None):
    """Change a container with one UPDATE; returns the new row.

    ``expected_status``: only while the status is still this one (the
    reconciler's compare-and-set: an action written meanwhile wins). None
    is returned when it no longer is.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    stmt = sa.update(CONTAINER).where(CONTAINER.c.uuid == uuid).values(
        **values)
    if expected_status is not None:
        stmt = stmt.where(CONTAINER.c.status == expected_status)
    with api.writer() as session:
        if session.execute(stmt).rowcount:
            return session.execute(sa.select(CONTAINER).where(
                CONTAINER.c.uuid == uuid)).one()
        exists = session.execute(sa.select(CONTAINER.c.id).where(
            CONTAINER.c.uuid == uuid)).first()
    if exists is None:
        raise exception.ContainerNotFound(container=uuid)
    return None


def destroy_container(uuid):
    api.delete_by_key(CONTAINER, uuid,
                      lambda: exception.ContainerNotFound(container=uuid))
