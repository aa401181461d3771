"""``/v1/certificates``: a bay's CA certificate, CSR signing, CA rotation;
and ``GET /v1/bays/<ident>/config`` (``bay_config``).

The API reads a bay's CA *certificate* from the database; everything that
needs a private key (signing, rotation, a caller's configuration) is a
call to a conductor, the only process that can decrypt the keys. No
private key of Magnum's is ever in a response.

``GET /v1/bays/<ident>/config`` hands the caller a private key: a fresh
one, made for this caller by this request, whose certificate the bay's CA
signed. It is the caller's own credential (like the key behind a CSR they
sign through ``POST``), never stored, never logged, sent with
``Cache-Control: no-store``.
"""

from oslo_config import cfg
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.lifecycle import actions
from magnum.objects import bay as bay_obj

CONF = cfg.CONF

class CertificateFields(wtypes.Base):
    """What a signing takes: the bay (``bay_uuid``, or ``cluster_uuid`` as
    newer clients say; UUID or name) and the CSR in PEM.
    """

    bay_uuid = types.string()
    cluster_uuid = types.string()
    csr = wtypes.wsattr(types.string(max_length=65536), mandatory=True)


def _bay(ident, rule):
    return access.fetch_authorized(pecan.request.context, bay_obj.Bay.get,
                                   ident, rule)


def _body(bay, **fields):
    body = {'bay_uuid': bay.uuid, 'cluster_uuid': bay.uuid}
    body.update(fields)
    body['links'] = collection.links('certificates', bay.uuid)
    return body


class CertificatesController(collection.CollectionController):

    @pecan.expose('json')
    def get_one(self, ident, **params):
        # NOTE: newer clients may ask ?ca_cert_type=...; a bay has one CA.
        collection.refuse_query({k: v for k, v in params.items()
                                 if k != 'ca_cert_type'})
        bay = _bay(ident, 'certificate:get')
        return _body(bay, pem=bay_obj.Bay.ca_cert(bay.uuid))

    @pecan.expose('json')
    def post(self, **params):
        collection.refuse_query(dict(pecan.request.GET))
        values = types.parse(CertificateFields, types.json_body())
        bay_ident = values.get('bay_uuid') or values.get('cluster_uuid')
        if not bay_ident:
            raise exception.InvalidParameterValue(
                field='bay_uuid', reason='the field is required (or '
                                         'cluster_uuid)')
        if (values.get('bay_uuid') and values.get('cluster_uuid')
                and values['bay_uuid'] != values['cluster_uuid']):
            raise exception.InvalidParameterValue(
                field='cluster_uuid', reason='bay_uuid and cluster_uuid '
                                             'name different bays')
        bay = _bay(bay_ident, 'certificate:create')
        # NOTE: checked here too (no key is needed to check a CSR): a bad
        # one is a 400 without a round trip to a conductor, which would
        # log the refusal as an RPC error with its traceback. Imported
        # here: cryptography is ~10 MiB, which no other request of an API
        # worker needs.
        from magnum.common import x509
        try:
            x509.check_csr(values['csr'], CONF.certificates.min_rsa_key_bits)
        except x509.CSRError as e:
            raise exception.InvalidParameterValue(field='csr', reason=str(e))
        pem = pecan.request.rpcapi.ca_sign(pecan.request.context, bay.uuid,
                                           values['csr'])
        pecan.response.status = 201
        return _body(bay, csr=values['csr'], pem=pem)

    @pecan.expose('json')
    def patch(self, ident, **params):
        # NOTE: clients send no body (or an empty one); there is nothing
        # to change but the CA itself.
        collection.refuse_query(dict(pecan.request.GET))
        bay = _bay(ident, 'certificate:rotate_ca')
        bay_obj.Bay.ca_cert(bay.uuid)   # 404 for a bay without a CA
        # NOTE: the conductor checks again under the bay's lock; the API
        # refuses early with the reason (a failed bay never "finishes").
        if bay.status not in bay_obj.CA_ROTATABLE:
            raise exception.BayCANotRotatable(bay=bay.uuid,
                                              status=bay.status)
        context = pecan.request.context
        action = actions.start(context, bay, 'rotate_ca')
        pecan.request.rpcapi.ca_rotate(context, bay.uuid, action.uuid)
        pecan.response.status = 202
        return _body(bay)


def bay_config(ident):
    """``GET /v1/bays/<ident>/config``: see the module."""
    collection.read_only()
    collection.refuse_query(dict(pecan.request.GET))
    bay = _bay(ident, 'bay:config')
    config = pecan.request.rpcapi.bay_config(pecan.request.context, bay.uuid)
    pecan.response.headers['Cache-Control'] = 'no-store'
    return dict(config, bay_uuid=bay.uuid)
