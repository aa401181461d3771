"""The one state machine of bays and node groups.

A status is an operation (``CREATE``, ``UPDATE``, ``DELETE``) and how far
it got (``IN_PROGRESS``, ``COMPLETE``, ``FAILED``), the names Heat and
OpenStack Magnum use. Every rule that depends on a status reads one of the
named sets below, and every question about a status ("which operation",
"what does it end in") is a function here: nothing else parses a status
string.

Transitions: a settled bay starts an update (from UPDATABLE) or a delete
(from DELETABLE); an operation in progress ends COMPLETE or FAILED (a
delete ends DELETE_COMPLETE, and its row is removed); a delete may start
from anything but a delete already running, so nothing stays stuck.
"""

from oslo_versionedobjects import fields

CREATE_IN_PROGRESS = 'CREATE_IN_PROGRESS'
CREATE_COMPLETE = 'CREATE_COMPLETE'
CREATE_FAILED = 'CREATE_FAILED'
UPDATE_IN_PROGRESS = 'UPDATE_IN_PROGRESS'
UPDATE_COMPLETE = 'UPDATE_COMPLETE'
UPDATE_FAILED = 'UPDATE_FAILED'
DELETE_IN_PROGRESS = 'DELETE_IN_PROGRESS'
DELETE_COMPLETE = 'DELETE_COMPLETE'
DELETE_FAILED = 'DELETE_FAILED'

_OPERATIONS = ('CREATE', 'UPDATE', 'DELETE')
_PHASES = ('IN_PROGRESS', 'COMPLETE', 'FAILED')
# {status: (operation, phase)}: the only place a status is taken apart.
_PARTS = {'%s_%s' % (op, phase): (op, phase)
          for op in _OPERATIONS for phase in _PHASES}

STATUSES = (CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED,
            UPDATE_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED,
            DELETE_IN_PROGRESS, DELETE_COMPLETE, DELETE_FAILED)

# -- the named sets -----------------------------------------------------------

# A provisioner is working on the bay: no other change may start.
BUSY = IN_PROGRESS = (CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS,
                      DELETE_IN_PROGRESS)
FAILED = (CREATE_FAILED, UPDATE_FAILED, DELETE_FAILED)
# A bay in one of these may be updated. Failed bays may always be retried.
UPDATABLE = (CREATE_COMPLETE, UPDATE_COMPLETE, CREATE_FAILED, UPDATE_FAILED,
             DELETE_FAILED)
# Everything but an ongoing delete may be deleted, so nothing stays stuck.
DELETABLE = tuple(s for s in STATUSES if s != DELETE_IN_PROGRESS)
# A CA is rotated only on a bay that is up, and not while it changes.
CA_ROTATABLE = (CREATE_COMPLETE, UPDATE_COMPLETE)
# A bay's Kubernetes objects can be used once its API has been found (a
# failed update leaves the API where it was).
READY_FOR_KUBE_OBJECTS = (CREATE_COMPLETE, UPDATE_IN_PROGRESS,
                          UPDATE_COMPLETE, UPDATE_FAILED)
# A bay takes containers in these states: what python-magnumclient 2.1.0
# checks before it asks, so the API answers the same.
READY_FOR_CONTAINERS = (CREATE_COMPLETE, UPDATE_IN_PROGRESS,
                        UPDATE_COMPLETE)


def operation(status):
    """'create', 'update' or 'delete': what ``status`` is about."""
    return _PARTS[status][0].lower()


def is_busy(status):
    return status in BUSY


def is_failed(status):
    return status in FAILED


def in_progress(operation_name):
    """The status of ``operation_name`` ('create'...) while it runs."""
    return '%s_IN_PROGRESS' % operation_name.upper()


def outcome(status, succeeded):
    """What the operation of ``status`` ends in: ``X_COMPLETE`` or
    ``X_FAILED``."""
    return '%s_%s' % (_PARTS[status][0],
                      'COMPLETE' if succeeded else 'FAILED')


def failed(status):
    """The failure of the operation of ``status``."""
    return outcome(status, False)


def same_outcome(status, other):
    """``status``'s operation ended as ``other`` did (COMPLETE/FAILED):
    a node group that takes part in its bay's change ends with it."""
    return outcome(status, _PARTS[other][1] == 'COMPLETE')


def is_finished(status):
    return status is not None and _PARTS[status][1] != 'IN_PROGRESS'


def may_follow(before, after):
    """Whether a bay may go from ``before`` to ``after``."""
    if before == after:
        return True
    if after == DELETE_IN_PROGRESS:
        return before in DELETABLE
    if after == UPDATE_IN_PROGRESS:
        return before in UPDATABLE
    if before in IN_PROGRESS:
        return _PARTS[after][0] == _PARTS[before][0]
    return False


class BayStatusField(fields.BaseEnumField):
    """A status, typed: anything else is refused when it is set."""

    AUTO_TYPE = fields.Enum(valid_values=STATUSES)
