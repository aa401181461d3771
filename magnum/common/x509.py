"""X.509 for bays: a CA per bay, the certificates it issues, CSR checks.

Pure crypto with the ``cryptography`` library; nothing here touches the
database or logs. Keys Magnum makes are EC P-256 (quick to make, and every
Docker Engine, Kubernetes and Python TLS stack takes them).

What a bay's CA issues:

* the bay's server certificate: ``serverAuth``, named (subjectAltName) by
  ``server_name(bay uuid)`` and by the addresses of the bay's API when
  they are known. The conductor checks the server against that name, so a
  Heat bay whose address is not known yet when its CA is made verifies too;
* client certificates (the conductor's, ``GET /v1/bays/<ident>/config``'s
  and those signed from tenants' CSRs): ``clientAuth`` only, never a CA,
  with no subjectAltName. A client certificate can therefore never pass as
  the bay's server (TLS clients check ``serverAuth``).
"""

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

SERVER = 'server'
CLIENT = 'client'
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
# NOTE: clocks of the bay's nodes may run a little behind ours.
_BACKDATE = datetime.timedelta(minutes=5)
_MAX_CSR_BYTES = 64 * 1024


class CSRError(ValueError):
    """A CSR Magnum will not sign; the message says why (never its text)."""


def server_name(bay_uuid):
    """The DNS name every server certificate of the bay carries."""
    return '%s.bay.magnum' % bay_uuid


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode('ascii')


def public_key_pem(key):
    """The public half of ``key``, PEM (SubjectPublicKeyInfo)."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def load_cert(pem):
    return x509.load_pem_x509_certificate(pem.encode('ascii'))


def load_key(pem):
    return serialization.load_pem_private_key(pem.encode('ascii'),
                                              password=None)


def name(common_name, organization=None):
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                        organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def make_ca(bay_uuid, days):
    """A new self-signed CA for a bay: (certificate, key)."""
    key = new_key()
    subject = name('Magnum CA for bay %s' % bay_uuid, 'Magnum')
    now = _now()
    public = key.public_key()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _general_names(hosts):
    names = []
    for host in hosts:
        if not host:
            continue
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue(ca_cert, ca_key, public_key, subject, usage, days, hosts=()):
    """A certificate for ``public_key`` signed by the bay's CA.

    ``usage`` is SERVER (named by ``hosts``) or CLIENT. Its validity ends
    after ``days``, and never after the CA's.
    """
    now = _now()
    end = min(now + datetime.timedelta(days=days),
              ca_cert.not_valid_after_utc)
    eku = (ExtendedKeyUsageOID.SERVER_AUTH if usage == SERVER
           else ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - _BACKDATE)
               .not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False,
                                                    path_length=None),
                              critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True,
                   key_encipherment=isinstance(public_key,
                                               rsa.RSAPublicKey),
                   content_commitment=False, data_encipherment=False,
                   key_agreement=False, key_cert_sign=False, crl_sign=False,
                   encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
               .add_extension(
                   x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
    if usage == SERVER:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_general_names(hosts)),
            critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def check_csr(pem, min_rsa_bits):
    """The CSR in ``pem`` if Magnum may sign it; CSRError otherwise.

    Checked: one PEM ``CERTIFICATE REQUEST``, a signature that verifies
    (whoever sent it holds the key), an RSA key of ``min_rsa_bits`` or more
    or an EC key on P-256/384/521, and a subject that is not empty.
    """
    if not isinstance(pem, str) or not pem.strip():
        raise CSRError('the CSR is empty')
    if len(pem) > _MAX_CSR_BYTES:
        raise CSRError('the CSR is larger than %d bytes' % _MAX_CSR_BYTES)
    begin = pem.find('-----BEGIN ')
    if begin < 0:
        raise CSRError('the CSR is not PEM text')
    kind = pem[begin + 11:pem.find('-----', begin + 11)]
    if kind not in ('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'):
        # NOTE: the kind only, never the text: it may be a private key
        # pasted by mistake.
        raise CSRError('the PEM block is a %r, not a CERTIFICATE REQUEST'
                       % kind[:40])
    try:
        csr = x509.load_pem_x509_csr(pem.strip().encode('ascii'))
    except (ValueError, UnicodeEncodeError):
        raise CSRError('the CSR is not a valid PEM certificate request')
    try:
        valid = csr.is_signature_valid
        key = csr.public_key()
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType):
        raise CSRError('the CSR\'s key or signature cannot be read')
    if not valid:
        raise CSRError('the CSR\'s signature does not verify')
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < min_rsa_bits:
            raise CSRError('the CSR\'s RSA key has %d bits; at least %d '
                           'are required' % (key.key_size, min_rsa_bits))
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _CURVES):
            raise CSRError('the CSR\'s EC key is on %s; P-256, P-384 or '
                           'P-521 are accepted' % key.curve.name)
    else:
        raise CSRError('the CSR\'s key is a %s; RSA or EC keys are '
                       'accepted' % type(key).__name__.lstrip('_'))
    if not len(csr.subject):
        raise CSRError('the CSR\'s subject is empty')
    return csr


def sign_csr(ca_cert, ca_key, pem, days, min_rsa_bits):
    """A client certificate for a checked CSR: its subject is kept, its
    requested extensions are not (see the module).
    """
    csr = check_csr(pem, min_rsa_bits)
    return issue(ca_cert, ca_key, csr.public_key(), csr.subject, CLIENT,
                 days)


def make_csr(key, subject):
    """A CSR for ``key`` (for the tests and tools)."""
    return x509.CertificateSigningRequestBuilder().subject_name(
        subject).sign(key, hashes.SHA256())


def is_private_key_pem(text):
    """True when ``text`` holds an unencrypted private key in PEM."""
    return 'PRIVATE KEY-----' in (text or '') and (
        'ENCRYPTED PRIVATE KEY' not in text)
