"""Magnum's exceptions. Each carries its HTTP status in ``code``.

The API turns ``code`` into the response status and the formatted message
into ``faultstring``; no controller needs a try/except ladder.
"""

from http import client as http_client


class MagnumException(Exception):
    """Base class: ``message`` is a template filled from keyword arguments."""

    message = 'An unknown exception occurred.'
    code = http_client.INTERNAL_SERVER_ERROR

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.message % kwargs
            except (KeyError, TypeError):
                # NOTE: a wrong template must not hide the original error.
                message = self.message
        self.msg = str(message)
        super().__init__(self.msg)

    def __str__(self):
        return self.msg


class Invalid(MagnumException):
    message = 'Unacceptable parameters: %(reason)s'
    code = http_client.BAD_REQUEST


class InvalidParameterValue(Invalid):
    message = 'Invalid value for %(field)s: %(reason)s'


class UnknownField(InvalidParameterValue):
    """A body names a field its resource does not have; ``hint`` names
    the closest one it has (magnum.common.spelling), if any is close."""
    message = "Unknown field '%(field)s'%(hint)s"

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault('reason', 'unknown field')
        kwargs.setdefault('hint', '')
        super().__init__(message, **kwargs)


class InvalidPatch(Invalid):
    message = 'Invalid patch: %(reason)s'


class NotAuthorized(MagnumException):
    message = 'Not authorized.'
    code = http_client.FORBIDDEN


class PolicyNotAuthorized(NotAuthorized):
    message = 'Policy does not allow %(action)s to be performed.'


class NotFound(MagnumException):
    message = 'Resource could not be found.'
    code = http_client.NOT_FOUND


class Conflict(MagnumException):
    message = 'Conflict.'
    code = http_client.CONFLICT


class ServiceUnavailable(MagnumException):
    message = 'Service unavailable: %(reason)s'
    code = http_client.SERVICE_UNAVAILABLE


class NotAcceptable(MagnumException):
    message = 'Not acceptable: %(reason)s'
    code = http_client.NOT_ACCEPTABLE


class BayModelNotFound(NotFound):
    message = 'BayModel %(baymodel)s could not be found.'


class BayModelAlreadyExists(Conflict):
    message = 'A BayModel with UUID %(uuid)s already exists.'


class BayModelReferenced(Conflict):
    message = ('BayModel %(baymodel)s is referenced by %(count)d bay(s) and '
               'cannot be deleted.')


class BayNotFound(NotFound):
    message = 'Bay %(bay)s could not be found.'


class BayAlreadyExists(Conflict):
    message = 'A bay with UUID %(uuid)s already exists.'


class BayLocked(Conflict):
    message = ('Bay %(bay)s is locked by %(host)s for another operation; '
               'try again shortly.')


class BayNotReserved(Conflict):
    message = ('Bay %(bay)s is no longer reserved by %(host)s; its change '
               'was not written.')


class BayInProgress(Conflict):
    message = ('Bay %(bay)s is %(status)s; wait until it finishes before '
               'changing it.')


class ActionNotFound(NotFound):
    message = 'Action %(action)s could not be found.'


class ActionUnsupported(Invalid):
    message = ('Action %(action)s is not supported by the %(provisioner)s '
               'provisioner of bay %(bay)s.')


class IdempotencyKeyTaken(Conflict):
    message = ('Idempotency-Key %(key)s was just used by another request of '
               'this project.')


class IdempotencyKeyReused(Conflict):
    message = ('Idempotency-Key %(key)s was used by this project for another '
               'request (it made bay %(bay)s); send a new key for a new '
               'request.')


class IdempotencyKeyGone(Conflict):
    message = ('Idempotency-Key %(key)s made bay %(bay)s, which is gone; send '
               'a new key for a new request.')


class NodeNotFound(NotFound):
    message = 'Node %(node)s could not be found.'


class MagnumServiceNotFound(NotFound):
    message = 'Magnum service %(service)s could not be found.'


class AmbiguousName(Conflict):
    message = ('Multiple %(resource)s exist with the name %(name)s; use the '
               'UUID instead.')


class ProvisionerNotFound(Invalid):
    message = 'Provisioner %(name)s is not installed.'


class ProvisionerError(MagnumException):
    """A provisioner could not do its work; the message goes to the bay."""
    message = '%(reason)s'


class CertificatePushFailed(ProvisionerError):
    """The bay's backend refused its new certificates: a bad gateway."""
    message = ('The new certificates of bay %(bay)s could not be pushed to '
               'it: %(reason)s')
    code = http_client.BAD_GATEWAY


class ConductorUnavailable(ServiceUnavailable):
    message = ('No conductor answered %(method)s within %(timeout)s '
               'seconds; try again later.')


class BayEndpointUnavailable(ServiceUnavailable):
    """The COE endpoint of a bay did not answer the conductor."""
    message = 'The endpoint of bay %(bay)s did not answer: %(reason)s'


# -- Containers (Docker and Swarm bays) --------------------------------------
# NOTE: the engine's own message travels in ``reason``, word for word.

class ContainerNotFound(NotFound):
    message = 'Container %(container)s could not be found.'


class ContainerAlreadyExists(Conflict):
    message = 'A container with UUID %(uuid)s already exists.'


class ContainerNotReady(Conflict):
    message = ('Container %(container)s is %(status)s; wait until it is '
               'created before acting on it.')

    failed = ('Container %(container)s is %(status)s: it was never '
              'created on the Docker Engine (its status_reason says why); '
              'delete it and create it again once the cause is fixed.')

    def __init__(self, message=None, **kwargs):
        # NOTE: only a Creating container gets there by waiting; one whose
        # create failed (Error) never will.
        if message is None and kwargs.get('status') not in (None,
                                                            'Creating'):
            try:
                message = self.failed % kwargs
            except (KeyError, TypeError):
                pass
        super().__init__(message, **kwargs)


class ContainerNeverCreated(Conflict):
    """An action on a container whose create failed: there is nothing on
    the engine to act on, and waiting does not change that."""
    message = ('Container %(container)s is %(status)s (%(reason)s): it was '
               'never created on the Docker Engine, so there is nothing to '
               '%(action)s; delete it and create it again once the cause '
               'is fixed.')


class ContainerGone(Conflict):
    message = ('Container %(container)s is no longer on the Docker Engine '
               'of bay %(bay)s (it was removed outside Magnum); delete it.')


class ContainerEngineRefused(Invalid):
    """The engine refused the request as invalid (HTTP 400 from Docker)."""
    message = 'The Docker Engine of bay %(bay)s refused: %(reason)s'


class ContainerEngineConflict(Conflict):
    """The engine refused the request in the container's state (409)."""
    message = 'The Docker Engine of bay %(bay)s refused: %(reason)s'


class ContainerEngineFailed(MagnumException):
    """The engine failed on its side: a bad gateway, not Magnum's fault."""
    message = 'The Docker Engine of bay %(bay)s failed: %(reason)s'
    code = http_client.BAD_GATEWAY


# -- Kubernetes objects (pods, services, replication controllers) -----------
# NOTE: each carries the Kubernetes API's own message in ``reason``.

class KubernetesObjectNotFound(NotFound):
    message = '%(kind)s %(name)s was not found in bay %(bay)s: %(reason)s'


class KubernetesObjectExists(Conflict):
    message = '%(kind)s %(name)s already exists in bay %(bay)s: %(reason)s'


class KubernetesConflict(Conflict):
    message = 'Kubernetes in bay %(bay)s refused the change: %(reason)s'


class KubernetesInvalid(Invalid):
    message = 'Kubernetes in bay %(bay)s refused the %(kind)s: %(reason)s'


class BayNotKubernetes(Invalid):
    message = ('Bay %(bay)s is a %(coe)s bay; %(kind)s objects live only in '
               'kubernetes bays.')


class BayNotReady(Conflict):
    message = ('Bay %(bay)s is %(status)s; %(kind)s objects can be used in '
               'a bay that is CREATE_COMPLETE, UPDATE_IN_PROGRESS, '
               'UPDATE_COMPLETE or UPDATE_FAILED.')


class BayEndpointRefused(ServiceUnavailable):
    """The bay's API server refused Magnum's own credentials."""
    message = ('The endpoint of bay %(bay)s refused Magnum\'s credentials '
               '(%(reason)s); the operator must check them.')


class QuotaExceeded(NotAuthorized):
    message = ('Quota exceeded: project %(project)s may have at most '
               '%(limit)s %(resource)s(s) (hard_limit) and has %(count)s.')


class QuotaNotFound(NotFound):
    message = 'No quota of %(resource)s for project %(project)s.'


class QuotaAlreadyExists(Conflict):
    message = ('A quota of %(resource)s for project %(project)s already '
               'exists; change it with PATCH.')


class NodeGroupNotFound(NotFound):
    message = 'Node group %(nodegroup)s could not be found.'


class NodeGroupAlreadyExists(Conflict):
    message = ('Cluster %(cluster)s already has a node group named '
               '%(name)s.')


class NotSupportedInVersion(NotAcceptable):
    message = ('%(what)s needs API version %(needed)s or later; the request '
               'asked for %(asked)s (header OpenStack-API-Version: '
               'container-infra X.Y).')


# -- Certificates -----------------------------------------------------------

class BayHasNoCA(NotFound):
    message = ('Bay %(bay)s has no certificate authority (its BayModel '
               'says tls_disabled, or its create has not reached a '
               'conductor yet).')


class BayCANotRotatable(Conflict):
    message = ('Bay %(bay)s is %(status)s: its CA rotates only while it is '
               'CREATE_COMPLETE or UPDATE_COMPLETE.')


class CertificateRotationUnsupported(Invalid):
    message = ('The %(provisioner)s provisioner of bay %(bay)s cannot push '
               'new certificates to the bay; its CA was not rotated.')


class BayConfigNotReady(Conflict):
    message = ('Bay %(bay)s is %(status)s and has no API address yet; its '
               'configuration can be made once it has one.')
