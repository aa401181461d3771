"""Certificates on the conductor: sign CSRs, rotate a bay's CA, and build
a caller's bay configuration. Only the conductor holds the CA's key.
"""

import base64

from oslo_log import log as logging
import yaml

from magnum.common import exception
from magnum.common import x509
from magnum.conductor import locks
from magnum.drivers import base as drivers
from magnum.lifecycle import actions
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.objects import bay_tls
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import states

LOG = logging.getLogger(__name__)


def _b64(text):
    return base64.b64encode(text.encode('ascii')).decode('ascii')


class CertificateHandler:

    def __init__(self, host):
        self.host = host

    def ca_sign(self, context, bay_uuid, csr):
        """The PEM of a client certificate for ``csr`` (checked first)."""
        pem = bay_tls.sign(bay_uuid, csr)
        LOG.info('Bay %s: signed a CSR for project %s', bay_uuid,
                 context.project_id)
        return pem

    def ca_rotate(self, context, bay_uuid, action_uuid=None):
        """Run the bay's rotate_ca action (``action_uuid``, written by the
        API), under the bay's lock; a push that fails is raised to the
        caller. None: an API of before asked, with no action recorded.
        """
        with locks.bay_lock(context, bay_uuid, self.host,
                            wait=locks.LOCK_WAIT) as bay:
            action = None
            if action_uuid is not None:
                action = action_obj.Action.get(context, action_uuid)
                if action.status != action_obj.PENDING:
                    return  # done already (a redo, a duplicate message)
            elif bay.status not in states.CA_ROTATABLE:
                raise exception.BayInProgress(bay=bay.uuid,
                                              status=bay.status)
            rotate(context, self.host, bay, action)

    def bay_config(self, context, bay_uuid):
        """A ready configuration for the caller: a kubeconfig, or a Docker
        TLS bundle, around a fresh key and client certificate made for the
        caller now (never Magnum's own key).
        """
        bay = bay_obj.Bay.get_by_uuid_unscoped(context, bay_uuid)
        if not bay.api_address:
            raise exception.BayConfigNotReady(bay=bay.uuid,
                                              status=bay.status)
        baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, bay.baymodel_id)
        name = context.user_id or 'admin'
        cert, key = bay_tls.issue_client(bay.uuid, name)
        ca = bay_obj.Bay.ca_cert(bay.uuid)
        LOG.info('Bay %s: issued a client certificate for user %s',
                 bay.uuid, name)
        server_name = x509.server_name(bay.uuid)
        if baymodel.coe == 'kubernetes':
            cluster = {'server': bay.api_address,
                       'certificate-authority-data': _b64(ca),
                       'tls-server-name': server_name}
            user = {'client-certificate-data': _b64(cert),
                    'client-key-data': _b64(key)}
            config = {
                'apiVersion': 'v1', 'kind': 'Config',
                'clusters': [{'name': bay.name or bay.uuid,
                              'cluster': cluster}],
                'users': [{'name': name, 'user': user}],
                'contexts': [{'name': 'default', 'context': {
                    'cluster': bay.name or bay.uuid, 'user': name}}],
                'current-context': 'default',
                'preferences': {}}
            return {'format': 'kubeconfig',
                    'kubeconfig': yaml.safe_dump(config,
                                                 default_flow_style=False)}
        return {'format': 'docker',
                'docker': {'host': bay.api_address, 'tls_verify': True,
                           'server_name': server_name,
                           'ca.pem': ca, 'cert.pem': cert, 'key.pem': key}}


def rotate(context, host, bay, action):
    """A new CA for ``bay``, its new certificates pushed to the bay by its
    provisioner's ``rotate_ca``, while ``host`` holds the bay.

    A provisioner that ``rotates_by_update`` (heat) pushes them in an
    update of the bay: the bay is UPDATE_IN_PROGRESS (the API wrote it with
    the action, so a conductor dying here leaves an action the reconciler
    hands over again), and the action ends as the update does. Otherwise
    the push is done inside the call, and the action ends with it.
    """
    provisioner = drivers.get(bay.provisioner)
    if not provisioner.supports(action_obj.ROTATE_CA):
        error = exception.CertificateRotationUnsupported(
            provisioner=bay.provisioner, bay=bay.uuid)
        _push_failed(context, host, bay, action, provisioner, str(error))
        raise error
    baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
        context, bay.baymodel_id)
    bundle = bay_tls.rotate(bay, baymodel)
    if provisioner.rotates_by_update:
        bay.status = states.UPDATE_IN_PROGRESS
        bay.status_reason = ('Rotating the CA (generation %d).'
                             % bundle.generation)
    # NOTE: the database first: it is what the conductor speaks to the bay
    # with; a push that fails is an error the caller sees, and another
    # rotation (or, after an update push, any update) pushes again.
    try:
        state = provisioner.rotate_ca(context, bay, baymodel, bundle)
    except exception.MagnumException as e:
        _push_failed(context, host, bay, action, provisioner, str(e))
        raise
    except Exception as e:
        LOG.exception('Bay %s: could not push its new certificates',
                      bay.uuid)
        _push_failed(context, host, bay, action, provisioner,
                     type(e).__name__)
        raise exception.CertificatePushFailed(bay=bay.uuid,
                                              reason=type(e).__name__)
    if state is None:
        if action is not None:
            actions.end_alone(context, host, action, action_obj.COMPLETE)
        return
    state.status = state.status or states.UPDATE_IN_PROGRESS
    _record(context, host, bay, action, state)
    if state.status == states.UPDATE_FAILED:
        raise exception.CertificatePushFailed(bay=bay.uuid,
                                              reason=state.status_reason)
    LOG.info('Bay %s: its new certificates are on their way to it',
             bay.uuid)


def _push_failed(context, host, bay, action, provisioner, reason):
    reason = 'The new certificates could not be pushed to the bay: %s' % (
        reason)
    if provisioner.rotates_by_update and states.is_busy(bay.status):
        _record(context, host, bay, action, drivers.BayState(
            status=states.UPDATE_FAILED, status_reason=reason))
    elif action is not None:
        actions.end_alone(context, host, action, action_obj.FAILED,
                          reason)


def _record(context, host, bay, action, state):
    if action is not None:
        actions.record(context, host, bay, action, state)
        return
    for name, value in state.changes().items():
        if name != 'redo':
            setattr(bay, name, value)
    bay.save(holder=host)
