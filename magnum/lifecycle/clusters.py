"""A cluster's own verbs: create, update (its node count) and upgrade (to
another template). A resize is its worker group's (nodegroups.resize).

Each checks its rules, then starts its action through
magnum/lifecycle/actions.py and returns it (a create returns the new bay
too); the caller casts it to the cluster's conductor.
"""

from magnum.common import exception
from magnum.lifecycle import provisioning
from magnum.lifecycle import actions
from magnum.lifecycle import cloud
from magnum.lifecycle import inheritance
from magnum.lifecycle import nodegroups
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj


def create(context, values, merge_labels=False, key=None):
    """A new bay of ``values`` (parsed, in the columns' names): its
    template's where it gives none (magnum/lifecycle/inheritance.py),
    checked by its provisioner and inserted (within quota) with its create
    action and the request's idempotency ``key``; returns (bay, action)."""
    baymodel, values = inheritance.prepare(context, values)
    # The cluster era shows these and may set them; a bay gets its
    # template's.
    inheritance.inherit(values, baymodel, merge_labels)
    provisioner = provisioning.provisioner_for(baymodel.labels)
    provisioning.validate(provisioner, baymodel, values)
    cloud.check_bay(context, provisioner, baymodel, values)
    bay = bay_obj.Bay(
        context, baymodel_id=baymodel.uuid, provisioner=provisioner,
        status=bay_obj.CREATE_IN_PROGRESS,
        **{k: v for k, v in values.items() if k != 'baymodel_id'})
    action = actions.create(context, bay, key)
    return bay, action


def update(context, bay, changes, rollback, busy_first=False):
    """Start changing ``bay``'s fields ``changes`` (its node count); a
    rollback restores the count. ``busy_first``: refuse a busy bay before
    its provisioner is asked whether it can update at all (a 409 before a
    400, as the bay era answers). Returns the action."""
    restore = {'node_count': bay.node_count}
    if busy_first:
        actions.refuse_busy(bay, 'update')
    return actions.start(context, bay, 'update', params=changes,
                         changes=changes, rollback=rollback,
                         restore={'bay': restore})


def change(context, bay, changes, health, rollback):
    """A cluster PATCH: ``changes`` (parsed: counts, name, labels) and
    ``health`` (health_status and its reason), written at once.

    A change of a count is an update action (returned; the caller casts
    it), the other fields written with its start; a rollback restores the
    counts. Without a count, name and labels are recorded on an idle
    cluster (its next update is built from them) and nothing is cast.
    Health alone is a report: written whatever the cluster does, its
    status untouched. Returns the action or None.
    """
    counts = {k: v for k, v in changes.items()
              if k in ('node_count', 'master_count')}
    if counts:
        restore = {name: bay[name] for name in counts}
        return actions.start(context, bay, 'update', params=counts,
                             changes=dict(changes, **health),
                             rollback=rollback, restore={'bay': restore})
    for name, value in dict(changes, **health).items():
        bay[name] = value
    if changes:
        actions.refuse_busy(bay, 'update')
        bay.save(expected_statuses=(bay.status,), unlocked=True)
    else:
        bay.save()
    return None


def upgrade(context, bay, group, template, rollback, max_batch_size=None):
    """Start upgrading ``bay`` (or its node group ``group``) to the
    template ``template`` names, which must run the same COE; returns the
    action. A rollback restores the template and the COE version."""
    try:
        new = baymodel_obj.BayModel.get(context, template)
    except exception.BayModelNotFound as e:
        raise exception.InvalidParameterValue(field='cluster_template',
                                              reason=str(e))
    current = baymodel_obj.BayModel.get_by_uuid_unscoped(
        context, bay.baymodel_id)
    if new.coe != current.coe:
        raise exception.InvalidParameterValue(
            field='cluster_template',
            reason='its coe is %s, the cluster runs %s'
                   % (new.coe, current.coe))
    params = {'cluster_template': new.uuid,
              'nodegroup': group.uuid if group is not None else None,
              'max_batch_size': max_batch_size}
    if group is not None and not group.is_default:
        return nodegroups.upgrade(context, bay, group, new, params,
                                  rollback)
    # NOTE: the COE version a cluster shows is its template's kube_tag.
    changes = {'baymodel_id': new.uuid,
               'coe_version': (new.labels or {}).get(
                   'kube_tag', bay.coe_version)}
    restore = {'baymodel_id': bay.baymodel_id,
               'coe_version': bay.coe_version}
    return actions.start(context, bay, 'upgrade', params,
                         changes=changes, rollback=rollback,
                         restore={'bay': restore})
