"""The provisioner interface, and how the conductor finds one by name.

A provisioner makes a bay's nodes exist (``heat``) or adopts nodes that
already do (``static``). Each is a stevedore entry point in the
``magnum.provisioners`` namespace; the bay records which one made it.
"""

import abc
import dataclasses
from stevedore import driver

from magnum.common import exception
from magnum.common.provisioning import NAMESPACE

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
    # True when the backend never saw the bay's current action (its message
    # was lost): the conductor drives the action again, under the lock.
    redo: bool = None

    def changes(self):
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None}


class Provisioner(abc.ABC):
    """Drives one kind of bay. Every method must be safe to call again."""

    # True when the backend enforces bay_create_timeout itself (and says
    # why it failed); otherwise the conductor's reconciler does.
    handles_timeout = False

    def validate(self, baymodel, bay_values):
        """Raise Invalid (a 400) if this provisioner cannot build the bay."""

    # -- certificates (magnum/common/bay_tls.py) ---------------------------

    def serves_bay_certificates(self, bay, baymodel):
        """True when the bay's endpoint will present the server certificate
        of the bay's own CA (and trust its clients), so the conductor must
        speak TLS to it with the bay's client certificate. Asked once, at
        create, before ``create``.
        """
        return False

    def rotate_certificates(self, context, bay, baymodel, bundle):
        """Push a new CA, server certificate and key (``bundle``) to the
        bay. Provisioners that cannot say so, and the API answers 400.

        Returns None when the push is done, or, with ``rotates_by_update``,
        a BayState: the push is a change of the bay that the reconciler
        follows to its end (UPDATE_IN_PROGRESS until then).
        """
        raise exception.CertificateRotationUnsupported(
            provisioner=bay.provisioner, bay=bay.uuid)

    can_rotate_certificates = False
    # True when rotate_certificates starts an update of the bay (the bay
    # is UPDATE_IN_PROGRESS until its provisioner says it is done), and an
    # ``update`` redone sends the current certificates again.
    rotates_by_update = False

    @abc.abstractmethod
    def create(self, context, bay, baymodel):
        """Start (or adopt) the bay's resources; returns a BayState."""

    @abc.abstractmethod
    def update(self, context, bay, baymodel):
        """Bring the resources to ``bay.node_count``; returns a BayState."""

    @abc.abstractmethod
    def delete(self, context, bay, baymodel):
        """Start removing the resources; returns a BayState."""

    @abc.abstractmethod
    def poll(self, context, bays):
        """Current state of bays in progress: {uuid: BayState}.

        ``bays`` is a list of (bay, baymodel) pairs, so a provisioner can
        answer for all of them with one call to its backend.
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
