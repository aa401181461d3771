"""Client side of the conductor RPC API, used by magnum-api.

Every change to a bay is a cast: the API has already written the bay's row
(the source of truth), so a lost message is finished by the reconciler.

Work on a bay's COE (containers, pods, services, replication controllers) is
a call: the API never talks to a COE itself, and the answer is what the COE
said. Magnum exceptions raised in the conductor come back as themselves; no
answer within ``[conductor] rpc_call_timeout`` is a 503.
"""

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from magnum.common import exception
from magnum.conductor import hash_ring
from magnum.conductor import rpc

LOG = logging.getLogger(__name__)


class ConductorAPI:
    """RPC API version history:

    1.0 - bay_create, bay_update, bay_delete
    1.1 - container_create, container_delete, container_action,
          container_logs, container_execute
    1.2 - kube_object_list, kube_object_show, kube_object_create,
          kube_object_update, kube_object_delete (kind: pod, service, rc)
    1.3 - ca_sign, ca_rotate, bay_config
    1.4 - action_run (every change to a bay is an action); ca_rotate takes
          the action's uuid. bay_create, bay_update and bay_delete stay for
          the APIs of before.

    Every message about a bay goes to the conductor that owns the bay on
    the hash ring (its own queue, ``<topic>.<host>``); with no live
    conductor, or no ring to be read, to the topic (any conductor).
    """

    RPC_API_VERSION = '1.4'

    def __init__(self, topic=None, rings=None):
        target = messaging.Target(topic=topic or cfg.CONF.conductor.topic,
                                  version=self.RPC_API_VERSION)
        self._client = rpc.get_client(target)
        self._rings = rings or hash_ring.RingCache(
            cfg.CONF.conductor.hash_ring_reset_interval)

    def owner(self, bay_uuid):
        try:
            return self._rings.get().owner(bay_uuid)
        except Exception:
            # NOTE: a ring we cannot read is no reason to drop the message:
            # any conductor takes it, and the bay's lock still holds.
            LOG.warning('Could not read the conductor hash ring',
                        exc_info=True)
            return None

    def _prepare(self, bay_uuid, **kwargs):
        # NOTE: ``retry`` bounds how long a message waits for RabbitMQ; the
        # default (None) would hold the request until the broker is back.
        return self._client.prepare(server=self.owner(bay_uuid),
                                    retry=cfg.CONF.conductor.rpc_retry,
                                    **kwargs)

    def action_run(self, context, action):
        """Ask the bay's conductor to run ``action`` (already written)."""
        try:
            self._prepare(action.bay_uuid).cast(
                context, 'action_run', bay_uuid=action.bay_uuid,
                action_uuid=action.uuid)
        except messaging.MessagingException:
            LOG.warning('Could not send action_run for bay %s (action %s); '
                        'a conductor will finish it from the database.',
                        action.bay_uuid, action.uuid, exc_info=True)

    def _call(self, context, method, route=None, **kwargs):
        """``route``: the uuid of the bay the call is about (None: any
        conductor)."""
        timeout = cfg.CONF.conductor.rpc_call_timeout
        try:
            return self._prepare(route, timeout=timeout).call(
                context, method, **kwargs)
        except messaging.MessagingTimeout:
            raise exception.ConductorUnavailable(method=method,
                                                 timeout=timeout)
        except messaging.MessagingException:
            raise exception.ServiceUnavailable(
                reason='the message queue could not deliver the call; '
                       'try again later.')
        except exception.MagnumException as e:
            # NOTE: oslo.messaging rebuilds a conductor's exception as a
            # subclass ("<Name>_Remote") whose str() ends with the
            # conductor's traceback; users see the message only.
            if type(e).__name__.endswith('_Remote'):
                raise type(e).__bases__[0](e.msg, **e.kwargs) from None
            raise

    # -- containers (1.1): calls, answered with what the engine did --------

    def container_create(self, context, container):
        return self._call(context, 'container_create', container.bay_uuid,
                          container=container)

    def container_delete(self, context, container, force=False):
        self._call(context, 'container_delete', container.bay_uuid,
                   container=container, force=force)

    def container_action(self, context, container, action):
        return self._call(context, 'container_action', container.bay_uuid,
                          container=container, action=action)

    def container_logs(self, context, container):
        return self._call(context, 'container_logs', container.bay_uuid,
                          container=container)

    def container_execute(self, context, container, command):
        return self._call(context, 'container_execute', container.bay_uuid,
                          container=container, command=command)

    # -- Kubernetes objects (1.2): calls, answered by the bay's Kubernetes --
    # ``kind`` is pod, service or rc; answers are Magnum's view as dicts.

    def kube_object_list(self, context, kind, bay_uuid):
        return self._call(context, 'kube_object_list', bay_uuid, kind=kind,
                          bay_uuid=bay_uuid)

    def kube_object_show(self, context, kind, bay_uuid, ident):
        return self._call(context, 'kube_object_show', bay_uuid, kind=kind,
                          bay_uuid=bay_uuid, ident=ident)

    def kube_object_create(self, context, kind, bay_uuid, manifest=None,
                           manifest_url=None):
        return self._call(context, 'kube_object_create', bay_uuid, kind=kind,
                          bay_uuid=bay_uuid, manifest=manifest,
                          manifest_url=manifest_url)

    def kube_object_update(self, context, kind, bay_uuid, ident, patch):
        return self._call(context, 'kube_object_update', bay_uuid, kind=kind,
                          bay_uuid=bay_uuid, ident=ident, patch=patch)

    def kube_object_delete(self, context, kind, bay_uuid, ident):
        self._call(context, 'kube_object_delete', bay_uuid, kind=kind,
                   bay_uuid=bay_uuid, ident=ident)

    # -- certificates (1.3): calls; only conductors hold the CAs' keys -----

    def ca_sign(self, context, bay_uuid, csr):
        return self._call(context, 'ca_sign', bay_uuid, bay_uuid=bay_uuid,
                          csr=csr)

    def ca_rotate(self, context, bay_uuid, action_uuid):
        self._call(context, 'ca_rotate', bay_uuid, bay_uuid=bay_uuid,
                   action_uuid=action_uuid)

    def bay_config(self, context, bay_uuid):
        return self._call(context, 'bay_config', bay_uuid,
                          bay_uuid=bay_uuid)
