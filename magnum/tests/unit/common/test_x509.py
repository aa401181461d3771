"""The bay CA's crypto and the encryption of keys at rest."""

import os
import sys
import tempfile

from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization

from magnum.common import exception
from magnum.common import keystore
from magnum.common import x509
from magnum.tests import base


def _pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM).decode()


class TestX509(base.TestCase):

    def setUp(self):
        super().setUp()
        self.ca, self.ca_key = x509.make_ca('bay-1', 10)

    def test_signed_csr_keeps_its_subject_and_is_a_client_cert(self):
        csr = x509.make_csr(x509.new_key(), x509.name('me', 'team'))
        cert = x509.sign_csr(self.ca, self.ca_key, _pem(csr), 3, 2048)
        self.assertEqual(csr.subject, cert.subject)
        eku = cert.extensions.get_extension_for_class(
            cx509.ExtendedKeyUsage).value
        self.assertEqual([cx509.oid.ExtendedKeyUsageOID.CLIENT_AUTH],
                         list(eku))
        self.assertFalse(cert.extensions.get_extension_for_class(
            cx509.BasicConstraints).value.ca)

    def test_validity_is_bounded_by_days_and_by_the_ca(self):
        csr = _pem(x509.make_csr(x509.new_key(), x509.name('me')))
        cert = x509.sign_csr(self.ca, self.ca_key, csr, 3, 2048)
        self.assertLessEqual((cert.not_valid_after_utc
                              - cert.not_valid_before_utc).days, 3)
        cert = x509.sign_csr(self.ca, self.ca_key, csr, 9999, 2048)
        self.assertEqual(self.ca.not_valid_after_utc,
                         cert.not_valid_after_utc)

    def _refused(self, pem, words):
        e = self.assertRaises(x509.CSRError, x509.check_csr, pem, 2048)
        self.assertIn(words, str(e))
        self.assertNotIn('PRIVATE KEY-----', str(e))

    def test_bad_csrs(self):
        self._refused('garbage', 'not PEM')
        self._refused('', 'empty')
        self._refused(x509.cert_pem(self.ca), "'CERTIFICATE'")
        self._refused(x509.key_pem(x509.new_key()), "'PRIVATE KEY'")
        weak = rsa.generate_private_key(public_exponent=65537,
                                        key_size=1024)
        self._refused(_pem(x509.make_csr(weak, x509.name('w'))),
                      '1024 bits')
        k1 = ec.generate_private_key(ec.SECP256K1())
        self._refused(_pem(x509.make_csr(k1, x509.name('k'))), 'secp256k1')
        self._refused(_pem(x509.make_csr(x509.new_key(), cx509.Name([]))),
                      'subject is empty')
        body = ('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n'
                '-----END CERTIFICATE REQUEST-----\n')
        self._refused(body, 'not a valid PEM')

    def test_server_certificate_names_the_bay_and_its_hosts(self):
        key = x509.new_key()
        cert = x509.issue(self.ca, self.ca_key, key.public_key(),
                          x509.name('s'), x509.SERVER, 5,
                          hosts=[x509.server_name('u'), '10.0.0.5'])
        san = cert.extensions.get_extension_for_class(
            cx509.SubjectAlternativeName).value
        self.assertEqual(['u.bay.magnum'],
                         san.get_values_for_type(cx509.DNSName))
        self.assertEqual(['10.0.0.5'], [
            str(a) for a in san.get_values_for_type(cx509.IPAddress)])


class TestKeystore(base.TestCase):

    def test_round_trip_and_no_clear_text(self):
        token = keystore.encrypt('-----BEGIN PRIVATE KEY-----\nx\n')
        self.assertTrue(token.startswith('fernet:'))
        self.assertNotIn('PRIVATE', token)
        self.assertEqual('-----BEGIN PRIVATE KEY-----\nx\n',
                         keystore.decrypt(token))

    def test_previous_keys_still_decrypt(self):
        token = keystore.encrypt('secret')
        old = self.conf.conf.certificates.encryption_key
        self.conf.config(encryption_key='n' * 40,
                         previous_encryption_keys=[old], group='certificates')
        self.assertEqual('secret', keystore.decrypt(token))
        self.conf.config(previous_encryption_keys=[], group='certificates')
        self.assertRaises(exception.MagnumException, keystore.decrypt, token)

    def test_keystone_mode_without_a_key_refuses_to_start(self):
        self.conf.config(auth_strategy='keystone')
        self.conf.config(encryption_key=None, group='certificates')
        self.assertRaises(keystore.KeyMissing, keystore.check)
        self.assertRaises(SystemExit, keystore.check_or_exit,
                          __import__('logging').getLogger('t'))

    def test_the_reason_is_logged_once_with_no_exception_beside_it(self):
        # oslo.log appends the exception being handled to a line logged
        # inside an except block: the reason then showed twice.
        self.conf.config(auth_strategy='keystone')
        self.conf.config(encryption_key=None, group='certificates')
        logged = []

        class Log:
            def critical(self, text, *args):
                logged.append((text % args, sys.exc_info()[0]))

        self.assertRaises(SystemExit, keystore.check_or_exit, Log())
        self.assertEqual([(str(keystore.KeyMissing()), None)], logged)

    def test_short_key_is_refused(self):
        self.conf.config(encryption_key='short', group='certificates')
        self.assertRaises(exception.MagnumException, keystore.check)

    def test_noauth_without_a_key_makes_a_private_key_file(self):
        state = tempfile.mkdtemp()
        self.conf.config(state_path=state)
        self.conf.config(encryption_key=None, group='certificates')
        keystore.check()
        token = keystore.encrypt('x')
        path = os.path.join(state, keystore.KEY_FILE)
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        self.assertEqual('x', keystore.decrypt(token))
