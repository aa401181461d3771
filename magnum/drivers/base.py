"""The provisioner interface, and how the conductor finds one by name.

A provisioner makes a bay's nodes exist (``heat``) or adopts nodes that
already do (``static``). Each is a stevedore entry point in the
``magnum.provisioners`` namespace; the bay records which one made it.
"""

import abc
import dataclasses
import datetime

from oslo_utils import timeutils
from stevedore import driver

from magnum.common import exception

# The entry-point group of the provisioners (setup.cfg).
NAMESPACE = 'magnum.provisioners'
_LOADED = {}


@dataclasses.dataclass
class BayState:
    """What a provisioner says about a bay.

    ``status`` is a bay status, or None while nothing has changed. Address
    fields left as None are kept as they are. DELETE_COMPLETE means the bay's
    resources are gone and its row can be removed.
    """

    status: str = None
    status_reason: str = None
    api_address: str = None
    master_addresses: list = None
    node_addresses: list = None
    stack_id: str = None
    # HEALTHY, UNHEALTHY or UNKNOWN (the cluster era's health_status), and
    # why: a dict of short strings (health_status_reason).
    health_status: str = None
    health_status_reason: dict = None
    # The bay's servers, when the provisioner knows them: dicts with
    # server_id, name, type, image_id, addresses and nodegroup (a node
    # group's name). They replace the bay's Node rows.
    nodes: list = None
    # {node group name: the public addresses of its servers}, when the
    # provisioner knows them (the heat provisioner: from the stack).
    nodegroup_addresses: dict = None
    # {node group name: its node count}, when the backend decides it (a
    # Cluster API MachineDeployment under the autoscaler).
    nodegroup_counts: dict = None
    # True when the backend never saw the action (its message was lost, or
    # its conductor died handing it over): the conductor hands it over
    # again, under the lock.
    redo: bool = None

    def changes(self):
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None}


# The verb of each kind of action (magnum/objects/action.py).
VERBS = {'create': 'create', 'update': 'update', 'resize': 'resize',
         'upgrade': 'upgrade', 'delete': 'delete',
         'nodegroup_create': 'create_nodegroup',
         'nodegroup_update': 'update_nodegroup',
         'nodegroup_delete': 'delete_nodegroup',
         'rotate_ca': 'rotate_ca', 'rotate_credential': 'rotate_credential'}


def create_overdue(bay):
    """Whether the create of ``bay`` has run past its bay_create_timeout
    (minutes since the bay was made; 0: no limit). The conductor ends such
    a create for the provisioners that do not count the time themselves
    (``handles_timeout``); those that do may count it with this."""
    if not bay.bay_create_timeout or bay.created_at is None:
        return False
    deadline = bay.created_at.replace(tzinfo=None) + datetime.timedelta(
        minutes=bay.bay_create_timeout)
    return timeutils.utcnow() > deadline


def _unsupported(kind, bay):
    return exception.ActionUnsupported(action=kind,
                                       provisioner=bay.provisioner,
                                       bay=bay.uuid)


class Provisioner(abc.ABC):
    """Drives one kind of bay: one verb an action, each safe to call again.

    Every verb returns a BayState: the bay's new status when the work is
    done inside the call (``static``), or only what changed so far while
    the backend works on (``heat``: the reconciler's ``poll`` follows it).
    A verb a provisioner does not define is an action it cannot do: the
    API refuses it with a 400 before anything is written (``supports``).
    """

    # True when the backend enforces bay_create_timeout itself (and says
    # why it failed); otherwise the conductor's reconciler does.
    handles_timeout = False
    # True when rotate_ca starts an update of the bay (the bay is
    # UPDATE_IN_PROGRESS until its provisioner says it is done).
    rotates_by_update = False
    # True when a node group's min_node_count and max_node_count reach the
    # backend (an autoscaler's bounds): changing them is an action.
    applies_node_limits = False

    def validate(self, baymodel, bay_values):
        """Raise Invalid (a 400) if this provisioner cannot build the bay."""

    def validate_template(self, coe):
        """Raise Invalid (a 400 naming ``coe``) if no bay of a template of
        ``coe`` can be built here."""

    def validate_nodegroup(self, bay, values):
        """Raise Invalid (a 400 naming the field) if this provisioner cannot
        build a node group of ``values`` on ``bay``."""

    def supports(self, kind):
        """Whether this provisioner can do an action of ``kind``: it
        defines the verb."""
        verb = VERBS[kind]
        # NOTE: a method of a subclass, or a function set on the instance.
        defined = getattr(getattr(self, verb), '__func__', None)
        return defined is not getattr(Provisioner, verb)

    def serves_bay_certificates(self, bay, baymodel):
        """True when the bay's endpoint will present the server certificate
        of the bay's own CA (and trust its clients), so the conductor must
        speak TLS to it with the bay's client certificate. Asked once, at
        create, before ``create``.
        """
        return False

    # -- the verbs ---------------------------------------------------------

    @abc.abstractmethod
    def create(self, context, bay, baymodel):
        """Start (or adopt) the bay's resources."""

    @abc.abstractmethod
    def delete(self, context, bay, baymodel):
        """Start removing the resources."""

    def update(self, context, bay, baymodel, rollback=False):
        """Bring the resources to the bay's row as it is now (a PATCH of
        ``node_count``)."""
        raise _unsupported('update', bay)

    def resize(self, context, bay, baymodel, nodegroup, node_count,
               nodes_to_remove=None, rollback=False):
        """Bring ``nodegroup`` (a node-group row) to ``node_count``
        servers, removing the servers ``nodes_to_remove`` (server ids)
        first. The rows already say the new count."""
        raise _unsupported('resize', bay)

    def upgrade(self, context, bay, baymodel, template, nodegroup=None,
                max_batch_size=None, rollback=False):
        """Move the bay (or its extra ``nodegroup``) to ``template``, a
        BayModel, at most ``max_batch_size`` servers at a time."""
        raise _unsupported('upgrade', bay)

    def create_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        """Build the servers of the new ``nodegroup`` (its row exists)."""
        raise _unsupported('nodegroup_create', bay)

    def update_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        """Bring ``nodegroup``'s servers to its row (its count)."""
        raise _unsupported('nodegroup_update', bay)

    def delete_nodegroup(self, context, bay, baymodel, name):
        """Remove the servers of node group ``name`` (its row is gone)."""
        raise _unsupported('nodegroup_delete', bay)

    def rotate_ca(self, context, bay, baymodel, bundle):
        """Push a new CA, server certificate and key (``bundle``, what the
        database holds now) to the bay. Returns None when the push is
        done, or, with ``rotates_by_update``, a BayState: the push is a
        change of the bay that the reconciler follows to its end.
        """
        raise _unsupported('rotate_ca', bay)

    def rotate_credential(self, context, bay, baymodel):
        """Apply the bay again with the caller's current credentials."""
        raise _unsupported('rotate_credential', bay)

    # -- watching (a backend that tells changes as they happen) -----------

    def start_watch(self, notify):
        """Call ``notify(bay uuid)`` (quickly; on the provisioner's own
        threads) whenever the backend shows a change of a bay. The
        default: nothing; the reconciler's ``poll`` alone follows bays."""

    def stop_watch(self, notify):
        """Stop calling ``notify``."""

    def observe(self, context, bay):
        """What the backend shows of ``bay`` while no action is open (its
        health, nodes, addresses): a BayState without a status, or None."""
        return None

    def poll_changed(self, context, items):
        """``poll`` for the bays the watch says changed (one, mostly): a
        provisioner may answer for them more cheaply than a reconcile
        pass does for every bay. The default: ``poll``."""
        return self.poll(context, items)

    @abc.abstractmethod
    def poll(self, context, items):
        """Current state of unfinished actions: {action uuid: BayState}.

        ``items`` is a list of (bay, baymodel, action) triples, so a
        provisioner can answer for all of them with one call to its
        backend. An answer about a PENDING action says the backend has it
        (the action is IN_PROGRESS from then), or, with ``redo``, that it
        never got it: the conductor hands it over again. None: no news.
        """


def get(name):
    """The provisioner called ``name``, loaded once per process."""
    if name not in _LOADED:
        try:
            manager = driver.DriverManager(NAMESPACE, name,
                                           invoke_on_load=True)
        except Exception:
            raise exception.ProvisionerNotFound(name=name)
        _LOADED[name] = manager.driver
    return _LOADED[name]
