"""oslo.messaging set-up shared by the API (client) and the conductor."""

from oslo_config import cfg
import oslo_messaging as messaging

from magnum.common import context as magnum_context
from magnum.objects import base as objects_base

TRANSPORT = None
DEFAULT_URL = None


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


def set_default_url(url):
    """The transport to use when [DEFAULT] transport_url is not set."""
    global DEFAULT_URL
    DEFAULT_URL = url


def init(conf=cfg.CONF):
    """Create the transport once per process; ``fake://`` is in-process."""
    global TRANSPORT
    if TRANSPORT is None:
        # NOTE: parsing registers oslo.messaging's own transport_url option.
        messaging.TransportURL.parse(conf)
        url = None if conf.transport_url else DEFAULT_URL
        TRANSPORT = messaging.get_rpc_transport(conf, url=url)
    return TRANSPORT


def cleanup():
    global TRANSPORT
    if TRANSPORT is not None:
        TRANSPORT.cleanup()
    TRANSPORT = None
DEFAULT_URL = None


def _serializer():
    return RequestContextSerializer(objects_base.MagnumObjectSerializer())


def get_client(target):
    return messaging.get_rpc_client(init(), target, serializer=_serializer())


def get_server(target, endpoints):
    return messaging.get_rpc_server(
        init(), target, endpoints, executor='threading',
        serializer=_serializer(),
        access_policy=messaging.DefaultRPCAccessPolicy)
