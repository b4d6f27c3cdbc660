"""Cross-certification, central key generation and key recovery, client
against the project's responder, in process."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cmp_protocol import (
    CertificateIssued,
    ClientConfig,
    ClientTransaction,
    Completed,
    EnvelopeKey,
    FakeCa,
    KeysRecovered,
    PendingRequest,
    PrivateKey,
    ProtectionError,
    ProtocolError,
    Rejected,
    Reply,
    UsageError,
    run_transaction,
)

from conftest import REF, SECRET

SUBJECT = "CN=Keygen Device"

#: extendedKeyUsage id-kp-cmKGA: authorises a key generation authority (RFC 9483)
CM_KGA = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.32")


def kga_extensions() -> list:
    value = x509.ExtendedKeyUsage([CM_KGA]).public_bytes()
    return [("2.5.29.37", False, value)]


def mac_config() -> ClientConfig:
    return ClientConfig(reference=REF, secret=SECRET)


def spki_of_cert(der: bytes) -> bytes:
    return (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def subject_of(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


# ----- ccr -----


def test_ccr_is_answered_with_ccp_and_confirmed() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    other_ca_key = PrivateKey.generate("ec:P-384")
    tx = ClientTransaction.ccr(mac_config(), key=other_ca_key, subject="CN=Other CA")
    assert tx.kind == "ccr"
    request = tx.request()
    assert request is not None
    reply = ca.handle_request(request)
    assert reply.body == "ccp" and reply.error is None
    step = tx.handle_response(reply.der)
    assert isinstance(step, CertificateIssued) and step.private_key is None
    assert subject_of(step.certificate) == "CN=Other CA"
    assert spki_of_cert(step.certificate) == other_ca_key.public_key_der()
    cert = x509.load_der_x509_certificate(step.certificate)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca and bc.path_length == 0
    assert cert.issuer == x509.load_der_x509_certificate(ca.ca_certificate).subject
    tx.confirm()
    conf = tx.request()
    assert conf is not None
    pkiconf = ca.handle_request(conf)
    assert pkiconf.body == "pkiconf"
    assert isinstance(tx.handle_response(pkiconf.der), Completed)
    assert tx.is_completed


def test_ccr_seen_by_the_responder_as_ccr() -> None:
    seen = []

    def decide(p: PendingRequest) -> None:
        seen.append((p.kind, p.subject, p.central_keygen_requested))
        return None  # the default policy issues

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    key = PrivateKey.generate()
    result = run_transaction(ClientTransaction.ccr(mac_config(), key=key, subject="CN=X CA"), ca)
    assert result.completed and result.certificate is not None
    assert seen == [("ccr", "CN=X CA", False)]


def test_a_ccr_answered_with_an_end_entity_certificate_is_refused() -> None:
    """The client checks that a cross-certificate is a CA certificate."""
    holder: dict = {}

    def decide(p: PendingRequest) -> Reply:
        ca: FakeCa = holder["ca"]
        return p.issue(ca.issue_certificate(p.subject or "", p.public_key or b""))

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    holder["ca"] = ca
    tx = ClientTransaction.ccr(mac_config(), key=PrivateKey.generate(), subject="CN=EE CA")
    with pytest.raises(ProtocolError) as e:
        run_transaction(tx, ca)
    assert e.value.name == "CMP_BAD_CERT_TEMPLATE"


def test_ccr_rejected_is_a_rejected_error() -> None:
    ca = FakeCa(secrets={REF: SECRET}, reject=["badCertTemplate"], reject_text="no cross-certs")
    tx = ClientTransaction.ccr(mac_config(), key=PrivateKey.generate(), subject="CN=Y CA")
    with pytest.raises(Rejected) as e:
        run_transaction(tx, ca)
    assert e.value.code == 500 and e.value.body == "ccp"
    assert e.value.fail_info == ["badCertTemplate"]


# ----- central key generation -----


def test_central_keygen_over_mac_returns_the_key_of_the_certificate() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    tx = ClientTransaction.central_keygen(
        mac_config(), EnvelopeKey.password(SECRET), subject=SUBJECT, key_algorithm="ec:P-384"
    )
    result = run_transaction(tx, ca)
    assert result.completed and result.certificate is not None
    assert result.private_key is not None
    key = PrivateKey.from_der(result.private_key)
    assert key.algorithm == "ec:P-384"
    assert key.public_key_der() == spki_of_cert(result.certificate)
    assert subject_of(result.certificate) == SUBJECT
    assert ca.archived_keys == 1


@pytest.mark.parametrize("alg", ["ec:P-256", "rsa2048"])
def test_central_keygen_for_a_signature_client_by_key_agreement_or_transport(alg: str) -> None:
    ca = FakeCa(secrets={REF: SECRET})
    own = PrivateKey.generate(alg)
    own_cert = ca.issue_certificate("CN=Signer", own)
    config = ClientConfig(key=own, cert=own_cert, server_trust=[ca.root])
    tx = ClientTransaction.central_keygen(
        config, EnvelopeKey.private_key(own, own_cert), kind="cr", subject=SUBJECT
    )
    assert tx.kind == "cr"
    result = run_transaction(tx, ca)
    assert result.private_key is not None
    # the PKI chose: P-256
    key = PrivateKey.from_der(result.private_key)
    assert key.algorithm == "ec:P-256"
    assert key.public_key_der() == spki_of_cert(result.certificate or b"")


def test_central_keygen_with_a_wrong_password_is_key_decrypt_failed() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    tx = ClientTransaction.central_keygen(
        mac_config(), EnvelopeKey.password(b"not the secret"), subject=SUBJECT
    )
    with pytest.raises(ProtocolError) as e:
        run_transaction(tx, ca)
    assert (e.value.code, e.value.name) == (421, "CMP_KEY_DECRYPT_FAILED")


def test_central_keygen_step_by_step_with_responder_decisions() -> None:
    """issue_with_key from a decide callback, the CA as key generation authority."""
    kga_key = PrivateKey.generate()
    holder: dict = {}

    def decide(p: PendingRequest) -> Reply:
        assert p.central_keygen_requested and p.public_key is None
        private, public = p.generate_key("ec:P-256")
        ca: FakeCa = holder["ca"]
        cert = ca.issue_certificate(p.subject or "", public)
        kga_cert = ca.issue_certificate("CN=KGA", kga_key, extensions=kga_extensions())
        with pytest.raises(UsageError):
            p.recover_keys([(cert, private)], kga_key=kga_key, kga_cert=kga_cert)
        return p.issue_with_key(
            cert, private, kga_key=kga_key, kga_cert=kga_cert, kga_chain=ca.chain
        )

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    holder["ca"] = ca
    # an RA as key generation authority: id-kp-cmKGA, validated against the trust anchors
    config = ClientConfig(reference=REF, secret=SECRET, server_trust=[ca.root])
    tx = ClientTransaction.central_keygen(config, EnvelopeKey.password(SECRET), subject=SUBJECT)
    result = run_transaction(tx, ca)
    assert result.private_key is not None and result.certificate is not None
    assert PrivateKey.from_der(result.private_key).public_key_der() == spki_of_cert(
        result.certificate
    )


def test_a_key_signed_by_an_unauthorised_kga_is_signer_not_trusted() -> None:
    kga_key = PrivateKey.generate()
    holder: dict = {}

    def decide(p: PendingRequest) -> Reply:
        ca: FakeCa = holder["ca"]
        private, public = p.generate_key()
        cert = ca.issue_certificate(p.subject or "", public)
        kga_cert = ca.issue_certificate("CN=Not a KGA", kga_key)  # no id-kp-cmKGA
        return p.issue_with_key(
            cert, private, kga_key=kga_key, kga_cert=kga_cert, kga_chain=ca.chain
        )

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    holder["ca"] = ca
    config = ClientConfig(reference=REF, secret=SECRET, server_trust=[ca.root])
    tx = ClientTransaction.central_keygen(config, EnvelopeKey.password(SECRET), subject=SUBJECT)
    with pytest.raises(ProtectionError) as e:
        run_transaction(tx, ca)
    assert (e.value.code, e.value.name) == (306, "CMP_SIGNER_NOT_TRUSTED")


def test_issue_with_key_refuses_a_request_without_central_keygen() -> None:
    kga_key = PrivateKey.generate()
    errors = []

    def decide(p: PendingRequest) -> None:
        ca: FakeCa = holder["ca"]
        cert = ca.issue_certificate("CN=Z", kga_key)
        try:
            p.issue_with_key(cert, kga_key, kga_key=kga_key, kga_cert=cert)
        except UsageError as e:
            errors.append(e.code)
        with pytest.raises(UsageError):
            p.generate_key()
        return None

    holder: dict = {}
    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    holder["ca"] = ca
    run_transaction(ClientTransaction.ir(mac_config(), key=kga_key, subject="CN=Z"), ca)
    assert errors == [100]


def test_envelope_key_kinds() -> None:
    assert EnvelopeKey.password(b"x").kind == "password"
    key = PrivateKey.generate()
    ca = FakeCa()
    assert EnvelopeKey.private_key(key, ca.issue_certificate("CN=K", key)).kind == "private_key"
    with pytest.raises(ValueError):
        ClientTransaction.central_keygen(mac_config(), EnvelopeKey.password(b"x"), kind="rr")
    with pytest.raises(ValueError):
        ClientTransaction.central_keygen(
            mac_config(), EnvelopeKey.password(b"x"), key_algorithm="dsa"
        )


# ----- key recovery -----


def enroll_central(ca: FakeCa) -> tuple:
    tx = ClientTransaction.central_keygen(mac_config(), EnvelopeKey.password(SECRET), subject=SUBJECT)
    r = run_transaction(tx, ca)
    return r.certificate, r.private_key


def test_krr_recovers_the_key_history() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    first = enroll_central(ca)
    second = enroll_central(ca)
    tx = ClientTransaction.krr(mac_config(), EnvelopeKey.password(SECRET), subject=SUBJECT)
    assert tx.kind == "krr"
    result = run_transaction(tx, ca)
    assert result.completed and tx.is_completed
    got = result.recovered
    assert isinstance(got, KeysRecovered) and got.kind == "keys_recovered"
    assert got.status == "accepted"
    assert got.keys == [first, second]
    assert got.ca_certs == [ca.ca_certificate]
    assert got.new_sig_cert is None
    # one round trip, no confirmation
    assert len(result.exchanges) == 1


def test_krr_with_nothing_archived_is_rejected() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    tx = ClientTransaction.krr(mac_config(), EnvelopeKey.password(SECRET), subject="CN=Nobody")
    with pytest.raises(Rejected) as e:
        run_transaction(tx, ca)
    assert e.value.fail_info == ["badCertId"] and e.value.body == "krp"


def test_krr_step_by_step_with_recover_keys_and_new_signing_cert() -> None:
    ca_holder: dict = {}
    archived = []
    new_key = PrivateKey.generate()
    kga_key = PrivateKey.generate()

    def decide(p: PendingRequest) -> object:
        ca: FakeCa = ca_holder["ca"]
        if p.kind != "krr":
            return None
        assert p.subject == SUBJECT
        assert p.public_key == new_key.public_key_der()
        new_cert = ca.issue_certificate(SUBJECT, p.public_key)
        kga_cert = ca.issue_certificate("CN=KGA", kga_key, extensions=kga_extensions())
        return p.recover_keys(
            archived,
            kga_key=kga_key,
            kga_cert=kga_cert,
            kga_chain=ca.chain,
            new_sig_cert=new_cert,
            ca_certs=[ca.ca_certificate],
        )

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    ca_holder["ca"] = ca
    archived.append(enroll_central(ca))
    config = ClientConfig(reference=REF, secret=SECRET, server_trust=[ca.root])
    tx = ClientTransaction.krr(
        config, EnvelopeKey.password(SECRET), subject=SUBJECT, new_key=new_key
    )
    got = run_transaction(tx, ca).recovered
    assert got is not None and got.keys == archived
    assert got.new_sig_cert is not None
    assert spki_of_cert(got.new_sig_cert) == new_key.public_key_der()


def test_krr_with_a_wrong_password_is_key_decrypt_failed() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    enroll_central(ca)
    tx = ClientTransaction.krr(mac_config(), EnvelopeKey.password(b"wrong"), subject=SUBJECT)
    with pytest.raises(ProtocolError) as e:
        run_transaction(tx, ca)
    assert e.value.code == 421


def test_a_delivered_key_that_is_not_the_certificates_is_key_mismatch() -> None:
    holder: dict = {}
    kga_key = PrivateKey.generate()

    def decide(p: PendingRequest) -> Reply:
        ca: FakeCa = holder["ca"]
        private, public = p.generate_key()
        cert = ca.issue_certificate(p.subject or "", public)
        other = PrivateKey.generate()  # delivered instead of the certified key
        kga_cert = ca.issue_certificate("CN=KGA", kga_key, extensions=kga_extensions())
        return p.issue_with_key(cert, other, kga_key=kga_key, kga_cert=kga_cert, kga_chain=ca.chain)

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    holder["ca"] = ca
    config = ClientConfig(reference=REF, secret=SECRET, server_trust=[ca.root])
    tx = ClientTransaction.central_keygen(config, EnvelopeKey.password(SECRET), subject=SUBJECT)
    with pytest.raises(ProtocolError) as e:
        run_transaction(tx, ca)
    assert (e.value.code, e.value.name) == (423, "CMP_KEY_MISMATCH")
    # the client rejected the certificate in its certConf
    assert not tx.is_completed
