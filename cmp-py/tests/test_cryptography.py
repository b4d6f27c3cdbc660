"""Keys and certificates in and out, interoperating with pyca/cryptography."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from cmp_protocol import (
    ClientConfig,
    ClientTransaction,
    FakeCa,
    Message,
    PrivateKey,
    run_transaction,
)

from conftest import REF, SECRET, pki

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def test_key_round_trips_with_cryptography() -> None:
    for alg in ("ec:P-256", "ec:P-384", "ed25519"):
        key = PrivateKey.generate(alg)
        loaded = serialization.load_pem_private_key(key.to_pem(), password=None)
        assert loaded.public_key().public_bytes(DER, SPKI) == key.public_key_der()
        again = PrivateKey.from_der(key.to_der())
        assert again.public_key_der() == key.public_key_der()
        assert key.algorithm == alg
    # and the other way: cryptography keys become PrivateKeys
    ck = ec.generate_private_key(ec.SECP256R1())
    assert PrivateKey.load(ck).public_key_der() == ck.public_key().public_bytes(DER, SPKI)
    sec1 = ck.private_bytes(
        DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert PrivateKey.from_der(sec1).public_key_der() == ck.public_key().public_bytes(DER, SPKI)
    # the fixed PKI's PEM keys
    assert PrivateKey.from_pem(pki("issued.key")).algorithm == "ec:P-256"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def test_cryptography_key_and_certificate_as_cmp_credentials() -> None:
    """A CA and a device credential made entirely with cryptography: the
    device signs its CMP request with them; the issued certificate is loaded
    by cryptography and verified against the cryptography-made CA."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Crypto Root"))
        .issuer_name(_name("Crypto Root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    dev_key = ed25519.Ed25519PrivateKey.generate()
    dev_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Crypto Device"))
        .issuer_name(ca_cert.subject)
        .public_key(dev_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    # The fake CA issues with the cryptography CA key and trusts its root.
    ca = FakeCa(ca_key=ca_key, ca_cert=ca_cert, client_trust=[ca_cert])
    config = ClientConfig(key=dev_key, cert=dev_cert, server_trust=[ca_cert])
    new_key = ec.generate_private_key(ec.SECP384R1())
    tx = ClientTransaction.cr(config, key=new_key, subject="CN=Crypto Device 2")
    result = run_transaction(tx, ca)
    request = Message.parse(result.exchanges[0][0])
    assert request.protection_kind == "signature"
    assert request.sender == "CN=Crypto Device"
    assert request.extra_certs[0] == dev_cert.public_bytes(DER)
    Message.parse(result.exchanges[0][1]).verify_signature()

    issued = x509.load_der_x509_certificate(result.certificate or b"")
    assert issued.subject == _name("Crypto Device 2")
    assert issued.issuer == ca_cert.subject
    assert issued.public_key().public_bytes(DER, SPKI) == new_key.public_key().public_bytes(DER, SPKI)
    issued.verify_directly_issued_by(ca_cert)


def test_certificate_inputs_accept_pem_der_and_objects() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    key = PrivateKey.generate()
    der = ca.issue_certificate("CN=Direct", key)
    cert = x509.load_der_x509_certificate(der)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    for form in (der, pem, cert):
        config = ClientConfig(key=key, cert=form, server_trust=[ca.root])
        tx = ClientTransaction.revoke(config, form)
        assert Message.parse(tx.request() or b"").body_type == "rr"
    # a whole PEM chain in one blob
    chain_pem = b"".join(
        x509.load_der_x509_certificate(c).public_bytes(serialization.Encoding.PEM) for c in ca.chain
    )
    config = ClientConfig(reference=REF, secret=SECRET, server_trust=chain_pem)
    assert config.protection == "mac"


def test_csr_from_cryptography() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name("CSR Device"))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("device.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca = FakeCa(secrets={REF: SECRET})
    result = run_transaction(
        ClientTransaction.p10cr(ClientConfig(reference=REF, secret=SECRET), csr), ca
    )
    issued = x509.load_der_x509_certificate(result.certificate or b"")
    assert issued.subject == _name("CSR Device")
    san = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["device.example"]
