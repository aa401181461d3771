"""oslo.messaging set-up shared by the API (client) and the conductor."""

from oslo_config import cfg
import oslo_messaging as messaging

from magnum.common import context as magnum_context
from magnum.objects import base as objects_base

TRANSPORT = None

# NOTE: Magnum's own exceptions raised in a conductor come back to the API
# as themselves (same class, message and HTTP code), not as RemoteError.
_REMOTE_EXMODS = ['magnum.common.exception']


class RequestContextSerializer(messaging.Serializer):
    """Sends the RequestContext and versioned objects over the wire."""

    def __init__(self, base):
        self._base = base

    def serialize_entity(self, context, entity):
        return self._base.serialize_entity(context, entity)

    def deserialize_entity(self, context, entity):
        return self._base.deserialize_entity(context, entity)

    def serialize_context(self, context):
        return context.to_dict()

    def deserialize_context(self, context):
        return magnum_context.RequestContext.from_dict(context)


def set_default_url(url, conf=cfg.CONF):
    """Use ``url`` unless [DEFAULT] transport_url is configured.

    NOTE: oslo.messaging's own default is rabbit://; the all-in-one and the
    unit tests want ``fake://``, the in-process transport.
    """
    messaging.TransportURL.parse(conf)  # registers transport_url
    conf.set_default('transport_url', url)


def init(conf=cfg.CONF):
    """Create the transport once per process."""
    global TRANSPORT
    if TRANSPORT is None:
        TRANSPORT = messaging.get_rpc_transport(
            conf, allowed_remote_exmods=_REMOTE_EXMODS)
    return TRANSPORT


def cleanup():
    global TRANSPORT
    if TRANSPORT is not None:
        TRANSPORT.cleanup()
    TRANSPORT = None


def _serializer():
    return RequestContextSerializer(objects_base.MagnumObjectSerializer())


def get_client(target):
    return messaging.get_rpc_client(init(), target, serializer=_serializer())


def get_server(target, endpoints):
    return messaging.get_rpc_server(
        init(), target, endpoints, executor='threading',
        serializer=_serializer(),
        access_policy=messaging.DefaultRPCAccessPolicy)
