"""The conductor's RPC endpoint: one method per call, each to its handler."""

import oslo_messaging as messaging

from magnum.common import exception
from magnum.conductor.handlers import bay as bay_handler
from magnum.conductor.handlers import certificate as cert_handler
from magnum.conductor.handlers import container as container_handler
from magnum.conductor.handlers import kubernetes as kube_handler


# NOTE: a refusal the caller gets back as a 4xx (bad input, a bay busy or
# gone) is the answer, not a fault of the conductor: oslo.messaging then
# logs it at debug level rather than as an error with a traceback.
_answers = messaging.expected_exceptions(exception.MagnumException)


class ConductorManager:
    target = messaging.Target(version='1.4')

    def __init__(self, host, rings=None):
        self.bays = bay_handler.BayHandler(host, rings=rings)
        self.containers = container_handler.ContainerHandler(host,
                                                             rings=rings)
        self.kubernetes = kube_handler.KubernetesHandler()
        self.certificates = cert_handler.CertificateHandler(host)

    def action_run(self, context, bay_uuid, action_uuid):
        self.bays.action_run(context, bay_uuid, action_uuid)

    # NOTE (1.0): the casts of an API of before actions.

    def bay_create(self, context, bay):
        self.bays.bay_changed(context, bay)

    def bay_update(self, context, bay):
        self.bays.bay_changed(context, bay)

    def bay_delete(self, context, bay):
        self.bays.bay_changed(context, bay)

    # -- containers (1.1) ----------------------------------------------------

    @_answers
    def container_create(self, context, container):
        return self.containers.container_create(context, container)

    @_answers
    def container_delete(self, context, container, force):
        self.containers.container_delete(context, container, force=force)

    @_answers
    def container_action(self, context, container, action):
        return self.containers.container_action(context, container, action)

    @_answers
    def container_logs(self, context, container):
        return self.containers.container_logs(context, container)

    @_answers
    def container_execute(self, context, container, command):
        return self.containers.container_execute(context, container,
                                                 command)

    # -- Kubernetes objects (kind: pod, service, rc) ------------------------

    @_answers
    def kube_object_list(self, context, kind, bay_uuid):
        return self.kubernetes.object_list(context, kind, bay_uuid)

    @_answers
    def kube_object_show(self, context, kind, bay_uuid, ident):
        return self.kubernetes.object_show(context, kind, bay_uuid, ident)

    @_answers
    def kube_object_create(self, context, kind, bay_uuid, manifest=None,
                           manifest_url=None):
        return self.kubernetes.object_create(context, kind, bay_uuid,
                                             manifest, manifest_url)

    @_answers
    def kube_object_update(self, context, kind, bay_uuid, ident, patch):
        return self.kubernetes.object_update(context, kind, bay_uuid, ident,
                                             patch)

    @_answers
    def kube_object_delete(self, context, kind, bay_uuid, ident):
        self.kubernetes.object_delete(context, kind, bay_uuid, ident)

    # -- certificates (1.3) --------------------------------------------------

    @_answers
    def ca_sign(self, context, bay_uuid, csr):
        return self.certificates.ca_sign(context, bay_uuid, csr)

    @_answers
    def ca_rotate(self, context, bay_uuid, action_uuid=None):
        self.certificates.ca_rotate(context, bay_uuid, action_uuid)

    @_answers
    def bay_config(self, context, bay_uuid):
        return self.certificates.bay_config(context, bay_uuid)
