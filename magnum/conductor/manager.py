"""The conductor's RPC endpoint: one method per call, each to its handler."""

import oslo_messaging as messaging

from magnum.conductor.handlers import bay as bay_handler
from magnum.conductor.handlers import certificate as cert_handler
from magnum.conductor.handlers import container as container_handler
from magnum.conductor.handlers import kubernetes as kube_handler


class ConductorManager:
    target = messaging.Target(version='1.3')

    def __init__(self, host, rings=None):
        self.bays = bay_handler.BayHandler(host, rings=rings)
        self.containers = container_handler.ContainerHandler(host,
                                                             rings=rings)
        self.kubernetes = kube_handler.KubernetesHandler()
        self.certificates = cert_handler.CertificateHandler(host)

    def bay_create(self, context, bay):
        self.bays.bay_create(context, bay)

    def bay_update(self, context, bay):
        self.bays.bay_update(context, bay)

    def bay_delete(self, context, bay):
        self.bays.bay_delete(context, bay)

    # -- containers (1.1) ----------------------------------------------------

    def container_create(self, context, container):
        return self.containers.container_create(context, container)

    def container_delete(self, context, container, force):
        self.containers.container_delete(context, container, force=force)

    def container_action(self, context, container, action):
        return self.containers.container_action(context, container, action)

    def container_logs(self, context, container):
        return self.containers.container_logs(context, container)

    def container_execute(self, context, container, command):
        return self.containers.container_execute(context, container,
                                                 command)

    # -- Kubernetes objects (kind: pod, service, rc) ------------------------

    def kube_object_list(self, context, kind, bay_uuid):
        return self.kubernetes.object_list(context, kind, bay_uuid)

    def kube_object_show(self, context, kind, bay_uuid, ident):
        return self.kubernetes.object_show(context, kind, bay_uuid, ident)

    def kube_object_create(self, context, kind, bay_uuid, manifest=None,
                           manifest_url=None):
        return self.kubernetes.object_create(context, kind, bay_uuid,
                                             manifest, manifest_url)

    def kube_object_update(self, context, kind, bay_uuid, ident, patch):
        return self.kubernetes.object_update(context, kind, bay_uuid, ident,
                                             patch)

    def kube_object_delete(self, context, kind, bay_uuid, ident):
        self.kubernetes.object_delete(context, kind, bay_uuid, ident)

    # -- certificates (1.3) --------------------------------------------------

    def ca_sign(self, context, bay_uuid, csr):
        return self.certificates.ca_sign(context, bay_uuid, csr)

    def ca_rotate(self, context, bay_uuid):
        self.certificates.ca_rotate(context, bay_uuid)

    def bay_config(self, context, bay_uuid):
        return self.certificates.bay_config(context, bay_uuid)
