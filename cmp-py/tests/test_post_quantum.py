"""Post-quantum: ML-DSA enrollment and signature protection, ML-KEM keys
certified with proof-of-possession by an encrypted certificate or by
challenge and response (popdecc/popdecr), and
KEM-based MAC protection, client against the project's responder."""

from __future__ import annotations

import pytest
from cryptography import x509

from cmp_protocol import (
    CertificateIssued,
    ClientConfig,
    ClientTransaction,
    Completed,
    FakeCa,
    KemPrivateKey,
    Message,
    PendingRequest,
    PrivateKey,
    ProtocolError,
    Reply,
    Responder,
    ResponderConfig,
    UnauthenticatedErrorMessage,
    kem_encapsulate_to,
    run_transaction,
)

from conftest import REF, SECRET

#: id-KemBasedMac (RFC 9810)
KEM_BASED_MAC = "1.2.840.113533.7.66.16"


def key_encipherment() -> list:
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return [("2.5.29.15", True, usage.public_bytes())]


@pytest.mark.parametrize("alg", ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_ml_dsa_enrollment_and_signature_protection(alg: str) -> None:
    ca = FakeCa(secrets={REF: SECRET}, key_algorithm="ml-dsa-44")
    key = PrivateKey.generate(alg)
    assert key.algorithm == alg
    first = run_transaction(
        ClientTransaction.ir(ClientConfig(reference=REF, secret=SECRET), key=key, subject="CN=PQ"),
        ca,
    )
    assert first.certificate is not None and first.certificate in ca.issued
    # the ML-DSA key and certificate now protect a cr; the CA answers signed (ML-DSA chain)
    config = ClientConfig(key=key, cert=first.certificate, server_trust=[ca.root])
    second_key = PrivateKey.generate(alg)
    tx = ClientTransaction.cr(config, key=second_key, subject="CN=PQ 2")
    result = run_transaction(tx, ca)
    assert result.certificate is not None
    request, response = result.exchanges[0]
    assert Message.parse(request).protection_kind == "signature"
    assert Message.parse(request).protection_alg == key.signature_algorithm_oid
    Message.parse(request).verify_signature(first.certificate)
    issued = x509.load_der_x509_certificate(result.certificate)
    assert issued.subject.rfc4514_string() == "CN=PQ 2"


@pytest.mark.parametrize("alg", ["ml-kem-512", "ml-kem-768", "ml-kem-1024"])
def test_kem_key_certified_with_an_encrypted_certificate(alg: str) -> None:
    ca = FakeCa(secrets={REF: SECRET})
    kem_key = KemPrivateKey.generate(alg)
    assert kem_key.algorithm == alg
    tx = ClientTransaction.ir(
        ClientConfig(reference=REF, secret=SECRET),
        key=kem_key,
        pop="encrypted_cert",
        subject="CN=KEM Device",
        extensions=key_encipherment(),
    )
    request = tx.request()
    assert request is not None and Message.parse(request).pvno == 3
    reply = ca.handle_request(request)
    assert reply.body == "ip"
    step = tx.handle_response(reply.der)
    assert isinstance(step, CertificateIssued)
    # decrypted by the KEM key: the certificate certifies it
    assert step.certificate in ca.issued
    assert not step.implicit_confirm_granted
    tx.confirm()
    conf = tx.request()
    assert conf is not None
    assert isinstance(tx.handle_response(ca.handle_request(conf).der), Completed)


@pytest.mark.parametrize("alg", ["ml-kem-512", "ml-kem-768", "ml-kem-1024"])
def test_kem_key_certified_by_challenge_and_response(alg: str) -> None:
    ca = FakeCa(secrets={REF: SECRET})
    kem_key = KemPrivateKey.generate(alg)
    tx = ClientTransaction.ir(
        ClientConfig(reference=REF, secret=SECRET),
        key=kem_key,
        pop="challenge_response",
        subject="CN=KEM Challenge",
        extensions=key_encipherment(),
    )
    result = run_transaction(tx, ca)
    assert result.certificate is not None and result.certificate in ca.issued
    bodies = [(Message.parse(q).body_type, Message.parse(r).body_type) for q, r in result.exchanges]
    # the popdecc challenge is decrypted and answered before the ip
    assert bodies == [("ir", "popdecc"), ("popdecr", "ip"), ("certConf", "pkiconf")]
    assert Message.parse(result.exchanges[0][0]).pvno == 3
    # it certifies the KEM key (the SPKI is in the certificate)
    assert kem_key.public_key_der() in result.certificate
    assert x509.load_der_x509_certificate(result.certificate).subject.rfc4514_string() == "CN=KEM Challenge"


def test_challenge_response_pop_needs_a_kem_key() -> None:
    config = ClientConfig(reference=REF, secret=SECRET)
    with pytest.raises(ValueError, match="challenge_response POP needs a KemPrivateKey"):
        ClientTransaction.ir(config, key=PrivateKey.generate(), pop="challenge_response", subject="CN=x")
    with pytest.raises(ValueError, match="challenge_response POP needs key"):
        ClientTransaction.ir(config, pop="challenge_response", subject="CN=x")


def test_encrypted_cert_pop_needs_a_kem_key() -> None:
    config = ClientConfig(reference=REF, secret=SECRET)
    with pytest.raises(ValueError):
        ClientTransaction.ir(config, key=PrivateKey.generate(), pop="encrypted_cert", subject="CN=x")
    with pytest.raises(ValueError):
        ClientTransaction.ir(config, pop="encrypted_cert", subject="CN=x")
    with pytest.raises(ValueError):
        KemPrivateKey.generate("kyber")


def test_kem_key_round_trips_through_pkcs8() -> None:
    k = KemPrivateKey.generate()
    again = KemPrivateKey.load(k.to_der())
    assert again.public_key_der() == k.public_key_der()


def kem_setup() -> tuple:
    ca = FakeCa(secrets={REF: SECRET}, accept_unprotected=True)
    kem_key = KemPrivateKey.generate("ml-kem-768")
    kem_cert = ca.issue_certificate(
        "CN=KEM Device", kem_key.public_key_der(), extensions=key_encipherment()
    )
    return ca, kem_key, kem_cert


def kem_genp(ca: FakeCa, kem_cert: bytes) -> tuple:
    config = ClientConfig(extra_certs=[kem_cert, ca.ca_certificate], server_trust=[ca.root])
    genm = ClientTransaction.genm(config, ["kem_ciphertext"])
    result = run_transaction(genm, ca)
    assert len(result.infos) == 1 and result.infos[0][1] is not None
    return genm.transaction_id, result.infos


def test_kem_based_mac_protected_enrollment() -> None:
    ca, kem_key, kem_cert = kem_setup()
    transaction_id, infos = kem_genp(ca, kem_cert)
    config = ClientConfig(
        kem_key=kem_key,
        kem_ciphertext=infos,
        transaction_id=transaction_id,
        server_trust=[ca.root],
    )
    assert config.protection == "mac"
    tx = ClientTransaction.ir(config, key=PrivateKey.generate(), subject="CN=KEM Device")
    assert tx.transaction_id == transaction_id
    result = run_transaction(tx, ca)
    assert result.completed and result.certificate is not None
    # every message of the transaction, both ways, under the KEM-based MAC
    for req, resp in result.exchanges:
        assert Message.parse(req).protection_alg == KEM_BASED_MAC
        assert Message.parse(resp).protection_alg == KEM_BASED_MAC


def test_kem_based_mac_with_the_wrong_kem_key_fails() -> None:
    ca, _, kem_cert = kem_setup()
    transaction_id, infos = kem_genp(ca, kem_cert)
    config = ClientConfig(
        kem_key=KemPrivateKey.generate("ml-kem-768"),
        kem_ciphertext=infos,
        transaction_id=transaction_id,
        server_trust=[ca.root],
    )
    tx = ClientTransaction.ir(config, key=PrivateKey.generate(), subject="CN=KEM Device")
    with pytest.raises(UnauthenticatedErrorMessage) as e:
        run_transaction(tx, ca)
    # the responder cannot verify the MAC, so it cannot MAC its error either
    assert isinstance(e.value, UnauthenticatedErrorMessage) and e.value.code == 501
    assert e.value.fail_info == ["badMessageCheck"]


def test_kem_options_go_together() -> None:
    k = KemPrivateKey.generate()
    with pytest.raises(ValueError):
        ClientConfig(kem_key=k)
    with pytest.raises(ValueError):
        ClientConfig(kem_key=k, kem_ciphertext=[], secret=b"x")
    with pytest.raises(ProtocolError):
        ClientConfig(kem_key=k, kem_ciphertext=[])  # no KemCiphertextInfo in the genp


def test_ciphertext_to_the_responders_kem_key_protects_the_transaction() -> None:
    """The second flow: the responder holds the KEM key, the client
    encapsulates to its certificate; every message under the KEM-based MAC."""
    pki = FakeCa()
    server_kem = KemPrivateKey.generate("ml-kem-768")
    server_cert = pki.issue_certificate(
        "CN=KEM RA", server_kem.public_key_der(), extensions=key_encipherment()
    )
    responder = Responder(ResponderConfig(kem_key=server_kem))
    requesters = []

    def decide(p: PendingRequest) -> Reply:
        requesters.append(p.kind)
        return p.issue(pki.issue_certificate(p.subject or "", p.public_key or b""))

    itav, secret = kem_encapsulate_to(server_cert)
    config = ClientConfig(kem_shared_secret=secret, first_general_info=[itav])
    assert config.protection == "mac"
    tx = ClientTransaction.ir(config, key=PrivateKey.generate(), subject="CN=To KEM RA")
    result = run_transaction(tx, lambda b: responder.handle_request_with(b, decide).der)
    assert result.completed and requesters == ["ir"]
    for req, resp in result.exchanges:
        assert Message.parse(req).protection_alg == KEM_BASED_MAC
        assert Message.parse(resp).protection_alg == KEM_BASED_MAC
    # the ciphertext travels in the first request only
    assert [i[0] for i in Message.parse(result.exchanges[0][0]).general_info] == [itav[0]]
    assert itav[0] not in [i[0] for i in Message.parse(result.exchanges[1][0]).general_info]


def test_a_responder_without_the_kem_key_refuses() -> None:
    pki = FakeCa()
    server_kem = KemPrivateKey.generate()
    server_cert = pki.issue_certificate(
        "CN=KEM RA", server_kem.public_key_der(), extensions=key_encipherment()
    )
    responder = Responder(ResponderConfig())
    itav, secret = kem_encapsulate_to(server_cert)
    config = ClientConfig(kem_shared_secret=secret, first_general_info=[itav])
    tx = ClientTransaction.ir(config, key=PrivateKey.generate(), subject="CN=x")
    request = tx.request()
    assert request is not None
    reply = responder.handle_request(request)
    assert isinstance(reply, Reply) and reply.body == "error" and reply.error is not None
    with pytest.raises(UnauthenticatedErrorMessage):
        tx.handle_response(reply.der)
