"""SQLAlchemy models: the schema that the alembic chain must produce."""

import json

from oslo_db.sqlalchemy import models
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy import types

_DECODER = json.JSONDecoder()


def _loads(text):
    """``json.loads(text)``, without its per-call overhead for text that is
    one JSON document with nothing around it (what json.dumps stored).

    NOTE: json.loads strips whitespace around the document with two regex
    matches a call: two thirds of its time for a labels dict, and a
    detail list of 1,000 clusters decodes 5,000 such columns (a tenth of
    its time). Anything else (whitespace, extra data, bytes) goes to
    json.loads, which decodes it or raises as it always did.
    """
    if isinstance(text, str):
        try:
            value, end = _DECODER.raw_decode(text)
        except ValueError:
            end = None
        if end == len(text):
            return value
    return json.loads(text)


class JSONEncoded(types.TypeDecorator):
    """JSON kept in a TEXT column, so every backend stores it the same way."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value)

    def process_result_value(self, value, dialect):
        return None if value is None else _loads(value)


def _mysql_table_args(*args):
    return args + ({'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'},)


class Base(orm.DeclarativeBase, models.ModelBase, models.TimestampMixin):
    pass


class BayModel(Base):
    """A cluster shape (ClusterTemplate in the later API)."""

    __tablename__ = 'baymodel'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_baymodel0uuid'),
        sa.Index('baymodel_project_id_idx', 'project_id'),
        sa.Index('baymodel_name_idx', 'name'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(255))
    coe = sa.Column(sa.String(64), nullable=False)
    image_id = sa.Column(sa.String(255))
    flavor_id = sa.Column(sa.String(255))
    master_flavor_id = sa.Column(sa.String(255))
    keypair_id = sa.Column(sa.String(255))
    external_network_id = sa.Column(sa.String(255))
    fixed_network = sa.Column(sa.String(255))
    fixed_subnet = sa.Column(sa.String(255))
    network_driver = sa.Column(sa.String(255))
    volume_driver = sa.Column(sa.String(255))
    dns_nameserver = sa.Column(sa.String(255))
    apiserver_port = sa.Column(sa.Integer)
    docker_volume_size = sa.Column(sa.Integer)
    docker_storage_driver = sa.Column(sa.String(255))
    cluster_distro = sa.Column(sa.String(255))
    http_proxy = sa.Column(sa.String(255))
    https_proxy = sa.Column(sa.String(255))
    no_proxy = sa.Column(sa.String(1024))
    registry_enabled = sa.Column(sa.Boolean, nullable=False, default=False)
    labels = sa.Column(JSONEncoded)
    tls_disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    public = sa.Column(sa.Boolean, nullable=False, default=False)
    server_type = sa.Column(sa.String(32))
    insecure_registry = sa.Column(sa.String(255))
    master_lb_enabled = sa.Column(sa.Boolean, nullable=False, default=False)
    floating_ip_enabled = sa.Column(sa.Boolean, nullable=False, default=True)
    hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    tags = sa.Column(sa.String(255))
    # Which Magnum driver builds the clusters (python-magnumclient 5.0.0
    # sends it); stored and shown, the labels choose the provisioner.
    driver = sa.Column(sa.String(255))
    # An OpenSSH public key put on its Heat bays' servers (the seed era's
    # python-magnumclient 1.1.0 sends it).
    ssh_authorized_key = sa.Column(sa.Text)


class Bay(Base):
    """A cluster built from a BayModel. ``reservation`` is the per-bay lock."""

    __tablename__ = 'bay'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_bay0uuid'),
        sa.Index('bay_project_id_idx', 'project_id'),
        sa.Index('bay_name_idx', 'name'),
        sa.Index('bay_status_idx', 'status'),
        sa.Index('bay_baymodel_id_idx', 'baymodel_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(255))
    # NOTE: the foreign key makes "a BayModel in use cannot be deleted" a
    # guarantee of the database, not a check that a concurrent create races.
    baymodel_id = sa.Column(
        sa.String(36),
        sa.ForeignKey('baymodel.uuid', name='bay_baymodel_fk',
                      ondelete='RESTRICT'),
        nullable=False)
    provisioner = sa.Column(sa.String(64), nullable=False)
    node_count = sa.Column(sa.Integer, nullable=False, default=1)
    master_count = sa.Column(sa.Integer, nullable=False, default=1)
    bay_create_timeout = sa.Column(sa.Integer)
    discovery_url = sa.Column(sa.String(255))
    status = sa.Column(sa.String(32), nullable=False)
    status_reason = sa.Column(sa.Text)
    api_address = sa.Column(sa.String(255))
    node_addresses = sa.Column(JSONEncoded)
    master_addresses = sa.Column(JSONEncoded)
    stack_id = sa.Column(sa.String(255))
    reservation = sa.Column(sa.String(255))
    # The cluster era (0005): a cluster's own values over its template's.
    keypair = sa.Column(sa.String(255))
    docker_volume_size = sa.Column(sa.Integer)
    labels = sa.Column(JSONEncoded)
    master_flavor_id = sa.Column(sa.String(255))
    flavor_id = sa.Column(sa.String(255))
    fixed_network = sa.Column(sa.String(255))
    fixed_subnet = sa.Column(sa.String(255))
    floating_ip_enabled = sa.Column(sa.Boolean)
    master_lb_enabled = sa.Column(sa.Boolean)
    health_status = sa.Column(sa.String(20))
    health_status_reason = sa.Column(JSONEncoded)
    coe_version = sa.Column(sa.String(255))
    container_version = sa.Column(sa.String(255))


class MagnumService(Base):
    """A service's heartbeat row."""

    __tablename__ = 'magnum_service'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_magnum_service0host0binary'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(255), nullable=False)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    disabled_reason = sa.Column(sa.String(255))
    last_seen_up = sa.Column(sa.DateTime)
    forced_down = sa.Column(sa.Boolean, nullable=False, default=False)
    report_count = sa.Column(sa.Integer, nullable=False, default=0)


class Node(Base):
    """A server of a bay, as its provisioner reports it.

    ``bay_uuid`` is empty for a node registered by hand through
    ``POST /v1/nodes`` (the python-magnumclient 1.1.0 node commands).
    """

    __tablename__ = 'node'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_node0uuid'),
        sa.Index('node_project_id_idx', 'project_id'),
        sa.Index('node_bay_uuid_idx', 'bay_uuid'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    bay_uuid = sa.Column(
        sa.String(36),
        sa.ForeignKey('bay.uuid', name='node_bay_fk', ondelete='CASCADE'))
    type = sa.Column(sa.String(32))
    image_id = sa.Column(sa.String(255))
    ironic_node_id = sa.Column(sa.String(36))
    server_id = sa.Column(sa.String(255))
    name = sa.Column(sa.String(255))
    addresses = sa.Column(JSONEncoded)
    # The name of the node group whose servers it is (0006).
    nodegroup = sa.Column(sa.String(255))


class Container(Base):
    """A container on a Docker or Swarm bay's engine.

    ``container_id`` is the engine's id, empty while it is being created.
    The engine labels every container with its uuid, project and bay, so
    the reconciler maps the engine's list back to these rows.

    NOTE: a bay's rows go with the bay (ON DELETE CASCADE): a Heat bay's
    servers, and the containers on them, are gone with it; a static bay's
    engine is left as it was, its containers included (still labelled).
    """

    __tablename__ = 'container'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_container0uuid'),
        sa.Index('container_project_id_idx', 'project_id'),
        sa.Index('container_name_idx', 'name'),
        sa.Index('container_bay_uuid_idx', 'bay_uuid'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(255))
    image = sa.Column(sa.String(255), nullable=False)
    command = sa.Column(sa.Text)
    bay_uuid = sa.Column(
        sa.String(36),
        sa.ForeignKey('bay.uuid', name='container_bay_fk',
                      ondelete='CASCADE'),
        nullable=False)
    memory = sa.Column(sa.String(255))
    environment = sa.Column(JSONEncoded)
    labels = sa.Column(JSONEncoded)
    status = sa.Column(sa.String(20), nullable=False)
    status_reason = sa.Column(sa.Text)
    container_id = sa.Column(sa.String(255))


class NodeGroup(Base):
    """A group of a cluster's servers with one role, flavor and image.

    Every cluster has ``default-master`` and ``default-worker``; their
    counts are the bay's ``master_count`` and ``node_count`` (the bay row
    is the source of truth for those two).
    """

    __tablename__ = 'nodegroup'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_nodegroup0uuid'),
        sa.UniqueConstraint('cluster_id', 'name',
                            name='uniq_nodegroup0cluster_id0name'),
        sa.Index('nodegroup_project_id_idx', 'project_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    cluster_id = sa.Column(
        sa.String(36),
        sa.ForeignKey('bay.uuid', name='nodegroup_bay_fk',
                      ondelete='CASCADE'),
        nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(255), nullable=False)
    is_default = sa.Column(sa.Boolean, nullable=False, default=False)
    node_count = sa.Column(sa.Integer, nullable=False, default=1)
    min_node_count = sa.Column(sa.Integer, nullable=False, default=1)
    max_node_count = sa.Column(sa.Integer)
    flavor_id = sa.Column(sa.String(255))
    image_id = sa.Column(sa.String(255))
    docker_volume_size = sa.Column(sa.Integer)
    labels = sa.Column(JSONEncoded)
    # What its nodes register with (API 1.14): {key: value}, and
    # [{key, value, effect}].
    node_labels = sa.Column(JSONEncoded)
    node_taints = sa.Column(JSONEncoded)
    node_addresses = sa.Column(JSONEncoded)
    status = sa.Column(sa.String(20))
    status_reason = sa.Column(sa.Text)


class Quota(Base):
    """A project's hard limit of one resource (``Cluster``).

    A row whose ``hard_limit`` is NULL holds no limit of its own (the
    configured default applies): it exists so that creates in the project
    have a row to lock while they count (see db.bays.create_bay).
    """

    __tablename__ = 'quota'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('project_id', 'resource',
                            name='uniq_quota0project_id0resource'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    project_id = sa.Column(sa.String(255), nullable=False)
    resource = sa.Column(sa.String(255), nullable=False)
    hard_limit = sa.Column(sa.Integer)


class BayCertificate(Base):
    """A bay's CA and the certificates Magnum made from it, one row a bay.

    ``*_key`` columns hold private keys encrypted with the conductors' key
    (magnum/common/keystore.py: ``fernet:...``), never in clear.
    ``generation`` counts CA rotations; a rotation is one conditional
    UPDATE on it. ``endpoint_tls`` is true when the bay's endpoint serves
    the bay's certificates, so the conductor must speak TLS with them.
    """

    __tablename__ = 'bay_certificate'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('bay_uuid', name='uniq_bay_certificate0bay_uuid'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    bay_uuid = sa.Column(
        sa.String(36),
        sa.ForeignKey('bay.uuid', name='bay_certificate_bay_fk',
                      ondelete='CASCADE'),
        nullable=False)
    generation = sa.Column(sa.Integer, nullable=False, default=1)
    ca_cert = sa.Column(sa.Text, nullable=False)
    ca_key = sa.Column(sa.Text, nullable=False)
    server_cert = sa.Column(sa.Text, nullable=False)
    server_key = sa.Column(sa.Text, nullable=False)
    client_cert = sa.Column(sa.Text, nullable=False)
    client_key = sa.Column(sa.Text, nullable=False)
    endpoint_tls = sa.Column(sa.Boolean, nullable=False, default=False)


class Action(Base):
    """A change a user asked of a bay: what, with which parameters, who
    asked, and how it ended (0008).

    ``params`` holds what was asked (counts, the servers to remove, the
    target template, whether to roll back and what a rollback restores),
    as JSON with its types. A bay has at most one action that is not
    finished (PENDING or IN_PROGRESS) changing its status at a time.
    """

    __tablename__ = 'action'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('uuid', name='uniq_action0uuid'),
        sa.Index('action_bay_uuid_idx', 'bay_uuid'),
        sa.Index('action_status_idx', 'status'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    bay_uuid = sa.Column(
        sa.String(36),
        sa.ForeignKey('bay.uuid', name='action_bay_fk', ondelete='CASCADE'),
        nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    params = sa.Column(JSONEncoded)
    request_id = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255))
    status = sa.Column(sa.String(20), nullable=False)
    status_reason = sa.Column(sa.Text)
    # The conductor that handed the action to the provisioner.
    conductor = sa.Column(sa.String(255))
    started_at = sa.Column(sa.DateTime)
    finished_at = sa.Column(sa.DateTime)


class IdempotencyKey(Base):
    """The bay a create with an ``Idempotency-Key`` header made (0009).

    One row a project and key: a repeated create finds it and answers with
    its bay; ``digest`` (SHA-256 of the request's path and body) tells a
    repeat from another request under the same key. Inserted in the
    transaction of the bay's insert, so two creates racing with one key
    make one bay. A row older than ``[api] idempotency_window`` is
    replaced by the next create with its key.
    """

    __tablename__ = 'idempotency_key'
    __table_args__ = _mysql_table_args(
        sa.UniqueConstraint('project_id', 'key',
                            name='uniq_idempotency_key0project_id0key'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    project_id = sa.Column(sa.String(255), nullable=False)
    key = sa.Column(sa.String(255), nullable=False)
    digest = sa.Column(sa.String(64), nullable=False)
    bay_uuid = sa.Column(sa.String(36), nullable=False)
