"""Which provisioner a BayModel's bays use, decided without loading drivers.

The BayModel's labels choose: ``provisioner=<name>`` names one outright;
otherwise ``docker_url`` or ``kube_api_url`` mean ``static`` (register that
existing endpoint); otherwise ``[bay] default_provisioner``.

NOTE: the API's one door to the drivers; the dependency goes one way
(magnum.drivers.base, the interface and its loader, never imports this). A
provisioner itself is loaded only when a check below needs it.
"""

import importlib.metadata

from oslo_config import cfg

from magnum.common import exception
from magnum.drivers import base as drivers

ENDPOINT_LABELS = ('docker_url', 'kube_api_url')


def provisioner_for(labels):
    labels = labels or {}
    if labels.get('provisioner'):
        return labels['provisioner']
    if any(labels.get(name) for name in ENDPOINT_LABELS):
        return 'static'
    return cfg.CONF.bay.default_provisioner


def installed_names():
    """Names of the installed provisioners, without importing them."""
    return sorted({ep.name for ep in
                   importlib.metadata.entry_points(group=drivers.NAMESPACE)})


def validate(name, baymodel, bay_values):
    """Let provisioner ``name`` refuse a bay it cannot build (a 400).

    NOTE: the API's one use of a driver: its checks of the input, no call
    to any backend.
    """
    drivers.get(name).validate(baymodel, bay_values)


def check_template(name, coe):
    """Let provisioner ``name`` refuse a template of ``coe`` (a 400 naming
    ``coe``). NOTE: no call to any backend."""
    drivers.get(name).validate_template(coe)


def check_nodegroup(bay, values):
    """Let ``bay``'s provisioner refuse a node group of ``values`` (the
    group's row as it would be; a 400 naming the field)."""
    drivers.get(bay.provisioner).validate_nodegroup(bay, values)


def check_action(bay, kind):
    """Refuse (a 400 naming both) an action ``bay``'s provisioner cannot
    do, before anything is written. NOTE: no call to any backend."""
    if not drivers.get(bay.provisioner).supports(kind):
        if kind == 'rotate_ca':
            raise exception.CertificateRotationUnsupported(
                provisioner=bay.provisioner, bay=bay.uuid)
        raise exception.ActionUnsupported(action=kind,
                                          provisioner=bay.provisioner,
                                          bay=bay.uuid)


def rotates_by_update(bay):
    """Whether a CA rotation of ``bay`` is an update of the bay (its
    status UPDATE_IN_PROGRESS until the provisioner is done)."""
    return drivers.get(bay.provisioner).rotates_by_update


def applies_node_limits(bay):
    """Whether ``bay``'s provisioner takes a node group's min and max
    counts to its backend (a change of them is an action)."""
    return drivers.get(bay.provisioner).applies_node_limits
