"""Audit notifications: a CADF event when an action starts and when it ends.

``notify(context, action, 'start')`` and ``notify(context, action, 'end')``
send one oslo.messaging notification each, the way OpenStack Magnum does
for its cluster operations:

- event type ``magnum.cluster.<kind>`` (``magnum.cluster.resize``,
  ``magnum.cluster.nodegroup_create``...), publisher ``magnum.<host>``;
- priority INFO at the start (outcome ``pending``) and for an action that
  ended COMPLETE (``success``); ERROR for one that ended otherwise, FAILED
  or ROLLED_BACK (``failure``);
- the payload is a CADF event (pycadf's ``Event.as_dict()``)::

    typeURI    http://schemas.dmtf.org/cloud/audit/1.0/event
    eventType  activity
    action     create | delete | update/<kind> for every other kind
    outcome    pending | success | failure
    initiator  {typeURI: service/security/account/user,
                user_id, project_id: who asked for the action,
                request_id: the API request that asked for it}
    target     {typeURI: service/magnum/cluster, id: the bay's uuid}
    observer   {typeURI: service/magnum/cluster}
    attachments [{name: action, typeURI: service/magnum/cluster/action,
                  content: {uuid, kind, status, status_reason}}]

A consumer reads the request id at ``payload['initiator']['request_id']``
(where keystonemiddleware's audit events have it too) and the action at
the attachment named ``action``. Neither the payload nor the message's
context carries a token: oslo.messaging sends a redacted copy of the
context.

``[oslo_messaging_notifications] driver`` decides where they go; with none
or only ``noop`` (the all-in-one) nothing is built or sent. A notification
that cannot be built or sent is logged and dropped: the action goes on.
Its ``retry`` bounds how long one waits for the broker; its default,
forever, is taken as one retry.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from pycadf import attachment
from pycadf import cadftaxonomy as taxonomy
from pycadf import cadftype
from pycadf import eventfactory
from pycadf import resource

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

START = 'start'
END = 'end'

CLUSTER_TYPE_URI = 'service/magnum/cluster'
ACTION_TYPE_URI = CLUSTER_TYPE_URI + '/action'
# NOTE: the action's own status word; kept here, not imported, so that
# this module depends on nothing but the attributes it reads.
_COMPLETE = 'COMPLETE'
# NOTE: the CADF action says what happened to the target, the bay: a
# create, a delete, or an update of some kind. pycadf accepts an action
# only under its taxonomy's verbs, so the kind goes after ``update/``
# (``update/resize``; OpenStack Magnum says plain ``update``): a consumer
# that matches the prefix ``update`` sees every change either way.
_CADF_ACTIONS = {'create': taxonomy.ACTION_CREATE,
                 'delete': taxonomy.ACTION_DELETE,
                 'update': taxonomy.ACTION_UPDATE}
# NOTE: oslo.messaging's default ``[oslo_messaging_notifications] retry``
# (-1) tries forever: while RabbitMQ is down, an action's start would wait
# for it, its bay's lock held. That default gets a bound, as RPC casts
# have; any bound an operator sets is kept.
_RETRY_INSTEAD_OF_FOREVER = 1

_LOCK = threading.Lock()
_transport = None
_notifier = None
_ready = False


def notify(context, action, phase):
    """Send the audit notification of ``action`` at ``phase``.

    :param context: the RequestContext of the work (or None); its request
        id and identity stand in where the action has none.
    :param action: has ``uuid``, ``bay_uuid``, ``kind``, ``status``,
        ``status_reason``, ``project_id``, ``user_id``, ``request_id``.
    :param phase: ``'start'`` or ``'end'``; any other is the caller's bug
        and raises ValueError. Nothing else raises.
    """
    if phase not in (START, END):
        raise ValueError('phase is %r, not %r or %r' % (phase, START, END))
    try:
        notifier = _get_notifier()
        if notifier is None:
            return
        outcome = _outcome(action, phase)
        payload = _event(context, action, outcome).as_dict()
        send = (notifier.error if outcome == taxonomy.OUTCOME_FAILURE
                else notifier.info)
        # NOTE: oslo.messaging logs and drops what its driver fails to
        # deliver; what lands here failed before (configuration, payload).
        send(context, 'magnum.cluster.%s' % action.kind, payload)
    except Exception as e:
        LOG.warning('Audit notification of the %(phase)s of action '
                    '%(action)s not sent: %(error)s',
                    {'phase': phase, 'action': getattr(action, 'uuid', None),
                     'error': e})


def reset():
    """Forget the notifier (tests: after a configuration change)."""
    global _transport, _notifier, _ready
    with _LOCK:
        if _transport is not None:
            _transport.cleanup()
        _transport = _notifier = None
        _ready = False


def _get_notifier():
    """The process's notifier, made at the first call; None when no driver
    sends anywhere."""
    global _transport, _notifier, _ready
    with _LOCK:
        if not _ready:
            transport = oslo_messaging.get_notification_transport(CONF)
            retry = CONF.oslo_messaging_notifications.retry
            notifier = oslo_messaging.Notifier(
                transport, publisher_id='magnum.%s' % CONF.host,
                retry=retry if retry >= 0 else _RETRY_INSTEAD_OF_FOREVER)
            # NOTE: is_enabled() is false only for ``noop`` alone; with no
            # driver configured at all it is true, yet nothing is sent.
            drivers = set(CONF.oslo_messaging_notifications.driver)
            if notifier.is_enabled() and drivers - {'noop'}:
                _transport, _notifier = transport, notifier
            else:
                transport.cleanup()
            _ready = True
        return _notifier


def _outcome(action, phase):
    if phase == START:
        return taxonomy.OUTCOME_PENDING
    if action.status == _COMPLETE:
        return taxonomy.OUTCOME_SUCCESS
    return taxonomy.OUTCOME_FAILURE


def _event(context, action, outcome):
    """The CADF event of ``action``; see the module's docstring."""
    initiator = resource.Resource(typeURI=taxonomy.ACCOUNT_USER)
    # NOTE: the action's own record first: an action's end is often seen
    # by a periodic task, whose context is the conductor's, not the user's.
    for name, value in (
            ('user_id', action.user_id or getattr(context, 'user_id', None)),
            ('project_id',
             action.project_id or getattr(context, 'project_id', None)),
            ('request_id',
             action.request_id or getattr(context, 'request_id', None))):
        if value:
            setattr(initiator, name, value)
    event = eventfactory.EventFactory().new_event(
        eventType=cadftype.EVENTTYPE_ACTIVITY,
        outcome=outcome,
        action=_CADF_ACTIONS.get(
            action.kind, '%s/%s' % (taxonomy.ACTION_UPDATE, action.kind)),
        initiator=initiator,
        target=resource.Resource(id=action.bay_uuid,
                                 typeURI=CLUSTER_TYPE_URI),
        observer=resource.Resource(typeURI=CLUSTER_TYPE_URI))
    event.add_attachment(attachment.Attachment(
        typeURI=ACTION_TYPE_URI, name='action',
        content={'uuid': action.uuid, 'kind': action.kind,
                 'status': action.status,
                 'status_reason': action.status_reason}))
    return event
