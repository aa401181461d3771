"""Database API: every query Magnum makes, in one module.

Reads use SQLAlchemy Core selects and hand back ``Row`` objects (attribute
and mapping access, no ORM identity map): the API's collection reads stay
close to the cost of a raw select. Writes are single statements, so the
per-bay lock is one conditional UPDATE.
"""

import datetime
import functools
import threading

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db.sqlalchemy import models

_CONTEXT = threading.local()
_FACADE = None

BAYMODEL = models.BayModel.__table__
BAY = models.Bay.__table__
SERVICE = models.MagnumService.__table__


def _facade():
    """This process's transaction factory, configured from [database]."""
    global _FACADE
    if _FACADE is None:
        facade = enginefacade.transaction_context()
        # NOTE: SQLite enforces foreign keys only when asked, per connection.
        # thread_checkin sleeps at every connection check-in so eventlet
        # can switch; Magnum runs on threads, and it cost ~80 us a request.
        facade.configure(sqlite_fk=True, thread_checkin=False)
        _FACADE = facade
    return _FACADE


def reader():
    """A connection for reads (the [database] slave_connection if set).

    NOTE: a plain Core connection from the reader engine: every query here
    is one Core statement, and the transaction scopes of enginefacade (or an
    ORM session) cost ~100 us a request, a tenth of a GET, for nothing.
    """
    return _facade().reader.get_engine().connect()


def writer():
    return _facade().writer.connection.using(_CONTEXT)


def get_engine():
    return _facade().writer.get_engine()


def dispose_pool():
    """Close pooled connections (before a fork)."""
    if _FACADE is not None:
        _FACADE.dispose_pool()


def reset():
    """Forget the engine; the next call reads [database] again (tests)."""
    global _FACADE
    dispose_pool()
    _FACADE = None


# -- scoping and lookup ------------------------------------------------------

def _sees_all(context, by_uuid=False):
    return context.is_admin and (by_uuid or context.all_projects)


@functools.lru_cache(maxsize=None)
def _lookup_statement(table, by_uuid, scoped, public):
    """SELECT one row by UUID or name, built once per shape.

    NOTE: building a statement costs more than running it on a hot GET;
    the parameters are bound at execution.
    """
    column = table.c.uuid if by_uuid else table.c.name
    stmt = sa.select(table).where(column == sa.bindparam('ident'))
    if scoped:
        mine = table.c.project_id == sa.bindparam('project_id')
        if public:
            mine = sa.or_(mine, table.c.public == sa.true())
        stmt = stmt.where(mine)
    return stmt.limit(2)


def get_one(context, table, ident, not_found, resource, public=False):
    """A row the caller may see, by UUID or by name; a name shared by
    several rows is a 409. ``not_found`` makes the exception raised when no
    row matches.
    """
    with reader() as session:
        if '\x00' in ident or not ident.isprintable():
            raise not_found()  # no row is named so; some databases choke
        by_uuid = uuidutils.is_uuid_like(ident)
        scoped = not _sees_all(context, by_uuid)
        stmt = _lookup_statement(table, by_uuid, scoped, public)
        params = {'ident': ident}
        if scoped:
            params['project_id'] = context.project_id
        rows = session.execute(stmt, params).all()
        if not rows:
            raise not_found()
        if len(rows) > 1:
            raise exception.AmbiguousName(resource=resource, name=ident)
        return rows[0]


@functools.lru_cache(maxsize=None)
def _page_statement(table, scoped, public, sort_key, sort_dir, marker_kind,
                    limited):
    """One page of keyset pagination on (sort_key, id), built once per shape.

    ``marker_kind`` is None (first page), 'null' (the marker row's sort
    value is NULL) or 'value'. NULLs come first when ascending.

    NOTE: each backend orders NULLs its own way, so the order is spelled
    out with ``column IS NOT NULL`` as the leading key.
    """
    stmt = sa.select(table)
    if scoped:
        mine = table.c.project_id == sa.bindparam('project_id')
        if public:
            mine = sa.or_(mine, table.c.public == sa.true())
        stmt = stmt.where(mine)
    column = table.c[sort_key]
    asc = sort_dir != 'desc'
    order = sa.asc if asc else sa.desc
    if sort_key == 'id':
        stmt = stmt.order_by(order(table.c.id))
    else:
        stmt = stmt.order_by(order(column.is_not(None)), order(column),
                             order(table.c.id))
    if marker_kind is not None:
        marker_id = sa.bindparam('marker_id')
        after_id = (table.c.id > marker_id) if asc else (
            table.c.id < marker_id)
        if sort_key == 'id':
            cond = after_id
        elif marker_kind == 'null':
            same = sa.and_(column.is_(None), after_id)
            cond = sa.or_(same, column.is_not(None)) if asc else same
        else:
            value = sa.bindparam('marker_value', type_=column.type)
            beyond = (column > value) if asc else (column < value)
            later = sa.and_(column.is_not(None),
                            sa.or_(beyond,
                                   sa.and_(column == value, after_id)))
            cond = later if asc else sa.or_(later, column.is_(None))
        stmt = stmt.where(cond)
    if limited:
        stmt = stmt.limit(sa.bindparam('limit'))
    return stmt


def paginate(session, context, table, limit, marker, sort_key, sort_dir,
             public=False, scoped=True, equal=None):
    """A page of the rows the caller may see, after ``marker`` (a row);
    ``equal`` ({column: value}) narrows it to the rows with those values.
    """
    scoped = scoped and not _sees_all(context)
    params = dict(equal or {})
    if scoped:
        params['project_id'] = context.project_id
    marker_kind = None
    if marker is not None:
        value = marker._mapping[sort_key]
        marker_kind = 'null' if value is None else 'value'
        params.update(marker_id=marker.id, marker_value=value)
    if limit is not None:
        params['limit'] = limit
    stmt = _page_statement(table, scoped, public, sort_key, sort_dir,
                           marker_kind, limit is not None)
    for name in equal or ():
        stmt = stmt.where(table.c[name] == sa.bindparam(name))
    return session.execute(stmt, params).all()


def _marker_row(session, context, table, marker, resource, public=False):
    if marker is None:
        return None
    # The marker must be a row of the page's own scope.
    scoped = not _sees_all(context)
    params = {'ident': marker}
    if scoped:
        params['project_id'] = context.project_id
    row = session.execute(_lookup_statement(table, True, scoped, public),
                          params).first()
    if row is None:
        raise exception.InvalidParameterValue(
            field='marker', reason='no %s with UUID %s' % (resource, marker))
    return row


def list_page(context, table, resource, limit, marker, sort_key, sort_dir,
              public=False, equal=None):
    """A page of the rows the caller may see, after the one whose UUID is
    ``marker``; ``resource`` names the rows in the error of a bad marker.
    """
    with reader() as session:
        marker_row = _marker_row(session, context, table, marker, resource,
                                 public=public)
        return paginate(session, context, table, limit, marker_row,
                        sort_key, sort_dir, public=public, equal=equal)


def new_row_values(context, values):
    values = dict(values)
    values.setdefault('uuid', uuidutils.generate_uuid())
    values.setdefault('project_id', context.project_id)
    values.setdefault('user_id', context.user_id)
    values.setdefault('created_at', timeutils.utcnow())
    return values


# -- the shapes every table repeats -------------------------------------------
# NOTE: ``not_found``, ``duplicate`` and ``reference`` make the exception to
# raise (a lambda): it is built only when raised, from the values as they
# are then.

def get_by_key(table, key, not_found, key_column='uuid'):
    """The row whose ``key_column`` is ``key``, of any project."""
    with reader() as session:
        row = session.execute(
            sa.select(table).where(table.c[key_column] == key)).first()
    if row is None:
        raise not_found()
    return row


def insert(session, table, values, duplicate=None, reference=None):
    """INSERT ``values`` in the caller's transaction. A unique key already
    taken raises ``duplicate()``, a foreign key to no row ``reference()``;
    oslo.db's own error where that one is None.
    """
    try:
        session.execute(sa.insert(table).values(**values))
    except db_exc.DBDuplicateEntry:
        if duplicate is None:
            raise
        raise duplicate()
    except db_exc.DBReferenceError:
        if reference is None:
            raise
        raise reference()


def insert_returning(table, values, duplicate=None, reference=None):
    """``insert`` in a transaction of its own; returns the new row."""
    with writer() as session:
        insert(session, table, values, duplicate, reference)
        return session.execute(sa.select(table).where(
            table.c.uuid == values['uuid'])).one()


def update_returning(table, key, values, not_found, key_column='uuid'):
    """UPDATE the row whose ``key_column`` is ``key`` with ``values`` and
    ``updated_at``; returns the new row.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    column = table.c[key_column]
    with writer() as session:
        result = session.execute(
            sa.update(table).where(column == key).values(**values))
        if not result.rowcount:
            raise not_found()
        return session.execute(sa.select(table).where(column == key)).one()


# -- BayModels --------------------------------------------------------------

def get_baymodel(context, ident):
    return get_one(context, BAYMODEL, ident,
                   lambda: exception.BayModelNotFound(baymodel=ident),
                   'baymodels', public=True)


def get_baymodel_by_uuid_unscoped(uuid):
    """For the conductor: the BayModel of a bay, whatever project it is in."""
    return get_by_key(BAYMODEL, uuid,
                      lambda: exception.BayModelNotFound(baymodel=uuid))


def list_baymodels(context, limit=None, marker=None, sort_key='id',
                   sort_dir='asc'):
    return list_page(context, BAYMODEL, 'baymodel', limit, marker, sort_key,
                     sort_dir, public=True)


def create_baymodel(context, values):
    values = new_row_values(context, values)
    return insert_returning(
        BAYMODEL, values,
        duplicate=lambda: exception.BayModelAlreadyExists(
            uuid=values['uuid']))


def update_baymodel(context, uuid, values):
    return update_returning(
        BAYMODEL, uuid, values,
        lambda: exception.BayModelNotFound(baymodel=uuid))


def destroy_baymodel(context, uuid):
    with writer() as session:
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


# -- Bays ---------------------------------------------------------------------

def get_bay(context, ident):
    return get_one(context, BAY, ident,
                   lambda: exception.BayNotFound(bay=ident), 'bays')


def get_bay_by_uuid_unscoped(uuid):
    return get_by_key(BAY, uuid, lambda: exception.BayNotFound(bay=uuid))


def list_bays(context, limit=None, marker=None, sort_key='id',
              sort_dir='asc'):
    return list_page(context, BAY, 'bay', limit, marker, sort_key, sort_dir)


def list_bays_by_status(statuses, unlocked_only=True):
    """Bays of every project in one of ``statuses`` (for the reconciler)."""
    stmt = sa.select(BAY).where(BAY.c.status.in_(statuses))
    if unlocked_only:
        stmt = stmt.where(BAY.c.reservation.is_(None))
    with reader() as session:
        return session.execute(stmt.order_by(BAY.c.id)).all()


def create_bay(context, values, action=None):
    """Insert a bay and its two default node groups, within the quota, and
    ``action`` (the values of its create action) with them.

    NOTE: the project's quota row is locked (an UPDATE of itself) before
    its bays are counted, in the transaction of the insert, so concurrent
    creates in one project queue up and cannot overshoot the limit.
    """
    values = new_row_values(context, values)
    project_id = values['project_id']
    ensure_quota_row(project_id, CLUSTER_RESOURCE)
    with writer() as session:
        check_cluster_quota(session, project_id)
        insert(session, BAY, values,
               duplicate=lambda: exception.BayAlreadyExists(
                   uuid=values['uuid']),
               reference=lambda: exception.BayModelNotFound(
                   baymodel=values['baymodel_id']))
        for role in ('master', 'worker'):
            session.execute(sa.insert(NODEGROUP).values(
                uuid=uuidutils.generate_uuid(), name='default-%s' % role,
                cluster_id=values['uuid'], project_id=project_id,
                user_id=values['user_id'], role=role, is_default=True,
                node_count=values.get('%s_count' % (
                    'master' if role == 'master' else 'node')) or 1,
                min_node_count=1, status=values.get('status'),
                created_at=values['created_at']))
        if action is not None:
            session.execute(sa.insert(ACTION).values(**dict(
                action, bay_uuid=values['uuid'],
                created_at=values['created_at'])))
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid == values['uuid'])).one()


# -- quotas ------------------------------------------------------------------

CLUSTER_RESOURCE = 'Cluster'
ACTION = models.Action.__table__
NODEGROUP = models.NodeGroup.__table__
QUOTA = models.Quota.__table__


@oslo_db_api.wrap_db_retry(
    max_retries=5, retry_on_deadlock=True,
    exception_checker=lambda e: isinstance(e, db_exc.DBDuplicateEntry))
def ensure_quota_row(project_id, resource):
    """The row create_bay locks; one with no limit of its own if new."""
    where = sa.and_(QUOTA.c.project_id == project_id,
                    QUOTA.c.resource == resource)
    with reader() as session:
        if session.execute(sa.select(QUOTA.c.id).where(where)).first():
            return
    with writer() as session:
        if not session.execute(sa.select(QUOTA.c.id).where(where)).first():
            session.execute(sa.insert(QUOTA).values(
                project_id=project_id, resource=resource, hard_limit=None,
                created_at=timeutils.utcnow()))


def check_cluster_quota(session, project_id):
    where = sa.and_(QUOTA.c.project_id == project_id,
                    QUOTA.c.resource == CLUSTER_RESOURCE)
    # The lock: an UPDATE holds the row (PostgreSQL, MariaDB) or the
    # database (SQLite) until this transaction ends.
    session.execute(sa.update(QUOTA).where(where).values(
        hard_limit=QUOTA.c.hard_limit))
    limit = session.execute(sa.select(QUOTA.c.hard_limit).where(
        where)).scalar()
    if limit is None:
        limit = cfg.CONF.quotas.max_clusters_per_project
    count = session.execute(sa.select(sa.func.count()).select_from(BAY)
                            .where(BAY.c.project_id == project_id)).scalar()
    if count >= limit:
        raise exception.QuotaExceeded(project=project_id, limit=limit,
                                      resource=CLUSTER_RESOURCE,
                                      count=count)


def update_bay(uuid, values, expected_statuses=None, unlocked=False,
               holder=None):
    """Change a bay with one conditional UPDATE; returns the new row.

    ``expected_statuses``: change it only while its status is one of these.
    ``unlocked``: only while nobody holds its reservation.
    ``holder``: only while ``holder`` holds it.
    When a condition fails the reason is raised: BayNotFound, BayLocked or
    BayInProgress.
    """
    with writer() as session:
        return update_bay_in(session, uuid, values, expected_statuses,
                             unlocked, holder)


def update_bay_in(session, uuid, values, expected_statuses=None,
                  unlocked=False, holder=None):
    """``update_bay`` inside the caller's transaction: a refusal raised
    here rolls the whole transaction back."""
    values = {k: timeutils.normalize_time(v) if isinstance(
        v, datetime.datetime) else v for k, v in values.items()}
    values['updated_at'] = timeutils.utcnow()
    stmt = sa.update(BAY).where(BAY.c.uuid == uuid).values(**values)
    if expected_statuses is not None:
        stmt = stmt.where(BAY.c.status.in_(expected_statuses))
    if unlocked:
        stmt = stmt.where(BAY.c.reservation.is_(None))
    if holder is not None:
        stmt = stmt.where(BAY.c.reservation == holder)
    if session.execute(stmt).rowcount:
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid == uuid)).one()
    current = session.execute(
        sa.select(BAY).where(BAY.c.uuid == uuid)).first()
    if current is None:
        raise exception.BayNotFound(bay=uuid)
    if holder is not None and current.reservation != holder:
        raise exception.BayNotReserved(bay=uuid, host=holder)
    if current.reservation is not None and current.reservation != holder:
        raise exception.BayLocked(bay=uuid, host=current.reservation)
    raise exception.BayInProgress(bay=uuid, status=current.status)


def reserve_bay(uuid, host):
    """Take the bay's exclusive reservation; BayLocked if someone has it."""
    with writer() as session:
        result = session.execute(
            sa.update(BAY).where(BAY.c.uuid == uuid,
                                 BAY.c.reservation.is_(None))
            .values(reservation=host))
        if result.rowcount:
            return session.execute(
                sa.select(BAY).where(BAY.c.uuid == uuid)).one()
        current = session.execute(
            sa.select(BAY.c.reservation).where(BAY.c.uuid == uuid)).first()
    if current is None:
        raise exception.BayNotFound(bay=uuid)
    raise exception.BayLocked(bay=uuid, host=current.reservation)


def release_bay(uuid, host):
    """Give the reservation back; a no-op if ``host`` no longer holds it."""
    with writer() as session:
        session.execute(
            sa.update(BAY).where(BAY.c.uuid == uuid,
                                 BAY.c.reservation == host)
            .values(reservation=None))


def clear_reservations(host):
    """Drop every reservation that ``host`` holds; returns how many."""
    with writer() as session:
        return session.execute(
            sa.update(BAY).where(BAY.c.reservation == host)
            .values(reservation=None)).rowcount


def clear_reservations_of(hosts):
    """Drop every reservation held by any of ``hosts`` (conductors found
    down); returns how many.
    """
    if not hosts:
        return 0
    with writer() as session:
        return session.execute(
            sa.update(BAY).where(BAY.c.reservation.in_(list(hosts)))
            .values(reservation=None)).rowcount


def destroy_bay(uuid, holder=None):
    stmt = sa.delete(BAY).where(BAY.c.uuid == uuid)
    if holder is not None:
        stmt = stmt.where(BAY.c.reservation == holder)
    with writer() as session:
        if session.execute(stmt).rowcount:
            return
        exists = session.execute(
            sa.select(BAY.c.id).where(BAY.c.uuid == uuid)).first()
    if exists is None:
        raise exception.BayNotFound(bay=uuid)
    raise exception.BayNotReserved(bay=uuid, host=holder)


# -- Nodes -------------------------------------------------------------------

NODE = models.Node.__table__


def get_node(context, ident):
    return get_one(context, NODE, ident,
                   lambda: exception.NodeNotFound(node=ident), 'nodes')


def list_nodes(context, limit=None, marker=None, sort_key='id',
               sort_dir='asc'):
    return list_page(context, NODE, 'node', limit, marker, sort_key,
                     sort_dir)


def create_node(context, values):
    values = new_row_values(context, values)
    return insert_returning(
        NODE, values,
        reference=lambda: exception.BayNotFound(bay=values.get('bay_uuid')))


def bay_nodes(bay_uuid):
    """Every Node row of a bay (the caller checked the bay is in scope)."""
    with reader() as session:
        return session.execute(sa.select(NODE).where(
            NODE.c.bay_uuid == bay_uuid).order_by(NODE.c.id)).all()


def replace_bay_nodes(bay_uuid, nodes):
    """Make the bay's Node rows the servers in ``nodes`` (dicts with
    server_id, name, type, image_id, addresses, nodegroup), in one
    transaction: rows of
    servers that are gone are removed, known ones updated, new ones added,
    each keeping its uuid while its server lives.
    """
    now = timeutils.utcnow()
    with writer() as session:
        bay = session.execute(sa.select(BAY.c.project_id, BAY.c.user_id).where(
            BAY.c.uuid == bay_uuid)).first()
        if bay is None:
            raise exception.BayNotFound(bay=bay_uuid)
        known = {row.server_id: row.uuid for row in session.execute(
            sa.select(NODE.c.uuid, NODE.c.server_id).where(
                NODE.c.bay_uuid == bay_uuid))}
        wanted = {node['server_id']: node for node in nodes}
        gone = [uuid for server, uuid in known.items()
                if server not in wanted]
        if gone:
            session.execute(sa.delete(NODE).where(NODE.c.uuid.in_(gone)))
        for server, node in wanted.items():
            values = {k: node.get(k) for k in
                      ('name', 'type', 'image_id', 'addresses',
                       'nodegroup')}
            if server in known:
                session.execute(sa.update(NODE).where(
                    NODE.c.uuid == known[server]).values(updated_at=now,
                                                         **values))
            else:
                session.execute(sa.insert(NODE).values(
                    uuid=uuidutils.generate_uuid(), bay_uuid=bay_uuid,
                    server_id=server, project_id=bay.project_id,
                    user_id=bay.user_id, created_at=now, **values))


# -- Services (heartbeats) -------------------------------------------------

@oslo_db_api.wrap_db_retry(
    max_retries=5, retry_on_deadlock=True,
    exception_checker=lambda e: isinstance(e, db_exc.DBDuplicateEntry))
def report_service(host, binary):
    """Record a heartbeat: create the row, or bump its counter.

    Two first heartbeats of one service can race to insert; the loser (a
    duplicate, or a deadlock on MariaDB's gap locks) tries again and then
    finds the row to update.
    """
    now = timeutils.utcnow()
    with writer() as session:
        result = session.execute(
            sa.update(SERVICE)
            .where(SERVICE.c.host == host, SERVICE.c.binary == binary)
            .values(report_count=SERVICE.c.report_count + 1,
                    last_seen_up=now, updated_at=now, forced_down=False))
        if not result.rowcount:
            session.execute(sa.insert(SERVICE).values(
                host=host, binary=binary, report_count=1, last_seen_up=now,
                created_at=now, disabled=False, forced_down=False))


def leave_service(host, binary):
    """A service stopping cleanly: reported down at once (``forced_down``)
    rather than after ``service_down_time``; its next heartbeat clears it.
    """
    with writer() as session:
        session.execute(
            sa.update(SERVICE)
            .where(SERVICE.c.host == host, SERVICE.c.binary == binary)
            .values(forced_down=True, updated_at=timeutils.utcnow()))


def list_services_of(binary):
    """Every heartbeat row of ``binary`` (for the hash ring), by host."""
    with reader() as session:
        return session.execute(
            sa.select(SERVICE).where(SERVICE.c.binary == binary)
            .order_by(SERVICE.c.host)).all()


def get_service(service_id):
    return get_by_key(
        SERVICE, service_id,
        lambda: exception.MagnumServiceNotFound(service=service_id),
        key_column='id')


def update_service(service_id, values):
    """Change a heartbeat row (``disabled``, ``disabled_reason``)."""
    return update_returning(
        SERVICE, service_id, values,
        lambda: exception.MagnumServiceNotFound(service=service_id),
        key_column='id')


def list_services(limit=None, marker=None, sort_key='id', sort_dir='asc'):
    with reader() as session:
        marker_row = None
        if marker is not None:
            marker_row = session.execute(sa.select(SERVICE).where(
                SERVICE.c.id == marker)).first()
            if marker_row is None:
                raise exception.InvalidParameterValue(
                    field='marker', reason='no service with id %s' % marker)
        return paginate(session, None, SERVICE, limit, marker_row,
                        sort_key, sort_dir, scoped=False)


def count_bays_using(baymodel_uuid):
    """How many bays, of any project, a BayModel serves."""
    with reader() as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(BAY).where(
                BAY.c.baymodel_id == baymodel_uuid)).scalar()


# -- Containers --------------------------------------------------------------
# NOTE: the container block; its table is looked up here, not at the top, so
# this block stays whole.

CONTAINER = models.Container.__table__


def get_container(context, ident):
    return get_one(context, CONTAINER, ident,
                   lambda: exception.ContainerNotFound(container=ident),
                   'containers')


def get_container_by_uuid_unscoped(uuid):
    return get_by_key(CONTAINER, uuid,
                      lambda: exception.ContainerNotFound(container=uuid))


def list_containers(context, limit=None, marker=None, sort_key='id',
                    sort_dir='asc', bay_uuid=None):
    """A page of the caller's containers, of one bay if ``bay_uuid``."""
    return list_page(context, CONTAINER, 'container', limit, marker,
                     sort_key, sort_dir,
                     equal=None if bay_uuid is None else {
                         'bay_uuid': bay_uuid})


def list_containers_of_bay(bay_uuid):
    """Every container of a bay, of any project (for the reconciler)."""
    with reader() as session:
        return session.execute(
            sa.select(CONTAINER).where(CONTAINER.c.bay_uuid == bay_uuid)
            .order_by(CONTAINER.c.id)).all()


def list_bays_with_containers():
    """The bays that have at least one container (for the reconciler)."""
    with reader() as session:
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid.in_(
                sa.select(CONTAINER.c.bay_uuid).distinct()))
            .order_by(BAY.c.id)).all()


def create_container(context, values):
    values = new_row_values(context, values)
    return insert_returning(
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
    with writer() as session:
        if session.execute(stmt).rowcount:
            return session.execute(sa.select(CONTAINER).where(
                CONTAINER.c.uuid == uuid)).one()
        exists = session.execute(sa.select(CONTAINER.c.id).where(
            CONTAINER.c.uuid == uuid)).first()
    if exists is None:
        raise exception.ContainerNotFound(container=uuid)
    return None


def destroy_container(uuid):
    with writer() as session:
        result = session.execute(
            sa.delete(CONTAINER).where(CONTAINER.c.uuid == uuid))
    if not result.rowcount:
        raise exception.ContainerNotFound(container=uuid)


# -- Bay certificates -------------------------------------------------------
# NOTE: the *_key columns arrive and leave encrypted; nothing here sees a
# private key in clear.

BAY_CERT = models.BayCertificate.__table__


def get_bay_certificate(bay_uuid):
    """The bay's certificate row, or None."""
    with reader() as session:
        return session.execute(sa.select(BAY_CERT).where(
            BAY_CERT.c.bay_uuid == bay_uuid)).first()


def create_bay_certificate(bay_uuid, values):
    """Insert the bay's first certificates; if another conductor already
    did, keep theirs. Returns the row that stands.
    """
    values = dict(values, bay_uuid=bay_uuid, generation=1,
                  created_at=timeutils.utcnow())
    with writer() as session:
        try:
            session.execute(sa.insert(BAY_CERT).values(**values))
        except db_exc.DBDuplicateEntry:
            pass
        except db_exc.DBReferenceError:
            raise exception.BayNotFound(bay=bay_uuid)
    return get_bay_certificate(bay_uuid)


def update_bay_certificate(bay_uuid, values, generation=None):
    """Change the row; with ``generation``, only while it is that one (a
    rotation). Returns the new row, or None when the condition failed.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    stmt = sa.update(BAY_CERT).where(BAY_CERT.c.bay_uuid == bay_uuid)
    if generation is not None:
        stmt = stmt.where(BAY_CERT.c.generation == generation)
        values['generation'] = generation + 1
    with writer() as session:
        if not session.execute(stmt.values(**values)).rowcount:
            return None
    return get_bay_certificate(bay_uuid)
