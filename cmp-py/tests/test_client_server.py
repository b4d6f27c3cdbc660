"""Full transactions against the project's responder, in process."""

from __future__ import annotations

import time

import pytest
from cryptography import x509

from cmp_protocol import (
    CertificateIssued,
    ClientConfig,
    ClientTransaction,
    Completed,
    Continue,
    FakeCa,
    GeneralResponse,
    Message,
    PendingRequest,
    PrivateKey,
    Rejected,
    Reply,
    Responder,
    ResponderConfig,
    Revoked,
    UsageError,
    Waiting,
    run_transaction,
)

from conftest import REF, SECRET, pki

SUBJECT = "CN=Test Device"


@pytest.fixture(scope="module")
def ca() -> FakeCa:
    return FakeCa(secrets={REF: SECRET})


def mac_config(**kw: object) -> ClientConfig:
    return ClientConfig(reference=REF, secret=SECRET, **kw)  # type: ignore[arg-type]


def subject_of(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def test_step_by_step_ir_with_responder_decisions() -> None:
    """The sans-IO shape: request() / handle_request / decide / handle_response / confirm."""
    config = ResponderConfig(
        secrets={REF: SECRET},
        client_trust=[pki("root.crt")],
        signer_key=pki("server.key"),
        signer_cert=pki("server.crt"),
        signer_chain=[pki("ca.crt")],
        extra_certs=pki("chain.crt"),
        ca_pubs=[pki("root.crt")],
    )
    responder = Responder(config)
    key = PrivateKey.from_pem(pki("issued.key"))
    tx = ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT)
    assert tx.kind == "ir" and not tx.is_finished

    ir = tx.request()
    assert ir is not None and tx.request() is None
    handled = responder.handle_request(ir)
    assert isinstance(handled, PendingRequest)
    assert handled.kind == "ir"
    assert handled.subject == SUBJECT
    assert handled.public_key == key.public_key_der()
    assert handled.transaction_id == tx.transaction_id
    assert handled.message.body_type == "ir"
    reply = handled.issue(pki("issued.crt"))
    assert isinstance(reply, Reply) and reply.body == "ip" and reply.error is None
    with pytest.raises(UsageError):
        handled.reject()  # already decided

    step = tx.handle_response(reply.der)
    assert isinstance(step, CertificateIssued)
    assert step.kind == "certificate_issued"
    assert subject_of(step.certificate) == SUBJECT
    assert [subject_of(c) for c in step.chain] == ["CN=Test Issuing CA", "CN=Test Root CA"]
    assert len(step.ca_pubs) == 1
    assert isinstance(tx.confirm(), Continue)

    cert_conf = tx.request()
    assert cert_conf is not None and Message.parse(cert_conf).body_type == "certConf"
    conf_reply = responder.handle_request(cert_conf)
    assert isinstance(conf_reply, Reply) and conf_reply.body == "pkiconf"
    assert conf_reply.event is not None and conf_reply.event.kind == "confirmed"
    assert conf_reply.event.certificate == step.certificate
    assert isinstance(tx.handle_response(conf_reply.der), Completed)
    assert tx.is_completed and tx.is_finished


def test_ir_mac_against_fake_ca(ca: FakeCa) -> None:
    key = PrivateKey.generate("ec:P-256")
    tx = ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT)
    result = run_transaction(tx, ca)
    assert result.certificate is not None
    assert [type(s) for s in result.steps] == [CertificateIssued, Continue, Completed]
    assert len(result.exchanges) == 2
    cert = x509.load_der_x509_certificate(result.certificate)
    assert cert.subject.rfc4514_string() == SUBJECT
    assert result.chain == ca.chain
    assert result.ca_pubs == [ca.root]
    assert result.certificate in ca.issued


@pytest.mark.parametrize(
    "written", ["CN=Device 1,O=Example,C=DE", "CN=Device 1, O=Example, C=DE", "/C=DE/O=Example/CN=Device 1"]
)
def test_subject_in_rfc4514_or_openssl_form(ca: FakeCa, written: str) -> None:
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=written)
    result = run_transaction(tx, ca)
    assert result.certificate is not None
    assert subject_of(result.certificate) == "CN=Device 1,O=Example,C=DE"


def test_a_name_that_does_not_parse_says_why() -> None:
    for bad, why in [("CN", "lacks '='"), ("/XX=1", "unknown attribute type"), ("", "empty")]:
        with pytest.raises(ValueError, match=why):
            ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=bad)


def test_cr_kur_and_revoke_with_signature_protection(ca: FakeCa) -> None:
    # first certificate by MAC, then use it for signature-protected requests
    key = PrivateKey.generate()
    first = run_transaction(ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT), ca)
    assert first.certificate is not None
    signed = ClientConfig(key=key, cert=first.certificate, chain=ca.chain[:1], server_trust=[ca.root])

    second_key = PrivateKey.generate("ed25519")
    cr = run_transaction(ClientTransaction.cr(signed, key=second_key, subject="CN=Second"), ca)
    assert cr.certificate is not None and subject_of(cr.certificate) == "CN=Second"

    new_key = PrivateKey.generate()
    kur = run_transaction(
        ClientTransaction.kur(signed, key=new_key, old_cert=first.certificate), ca
    )
    assert kur.certificate is not None and subject_of(kur.certificate) == SUBJECT
    renewed = x509.load_der_x509_certificate(kur.certificate)
    assert renewed.public_key().public_bytes(*_spki_args()) == new_key.public_key_der()

    rr = run_transaction(ClientTransaction.revoke(signed, first.certificate, reason=1), ca)
    assert rr.revoked and isinstance(rr.steps[-1], Revoked)
    assert ca.is_revoked(first.certificate)
    # revoking again is refused by the CA with certRevoked
    with pytest.raises(Rejected) as e:
        run_transaction(ClientTransaction.revoke(signed, first.certificate), ca)
    assert e.value.fail_info == ["certRevoked"]
    assert e.value.body == "rp"


def _spki_args() -> tuple:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_p10cr_with_a_csr(ca: FakeCa) -> None:
    tx = ClientTransaction.p10cr(mac_config(), pki("csr.der"))
    result = run_transaction(tx, ca)
    assert result.certificate is not None and subject_of(result.certificate) == SUBJECT


def test_genm_ca_certs(ca: FakeCa) -> None:
    result = run_transaction(ClientTransaction.genm(mac_config(), ["ca_certs"]), ca)
    step = result.steps[-1]
    assert isinstance(step, GeneralResponse)
    assert step.ca_certs == ca.chain
    assert result.infos[0][0] == "1.3.6.1.5.5.7.4.17"


def test_polling_then_issue() -> None:
    ca = FakeCa(secrets={REF: SECRET}, wait_polls=2, check_after=1)
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT)
    slept: list = []
    fake_now = [time.time()]

    def sleep(s: float) -> None:
        slept.append(s)
        fake_now[0] += s

    result = run_transaction(tx, ca, clock=lambda: fake_now[0], sleep=sleep)
    assert result.certificate is not None
    # ip(waiting): poll at once; pollRep(checkAfter 1): sleep; then the ip
    assert result.polls == 2
    assert [Message.parse(req).body_type for req, _ in result.exchanges] == [
        "ir",
        "pollReq",
        "pollReq",
        "certConf",
    ]
    assert [Message.parse(rsp).body_type for _, rsp in result.exchanges] == [
        "ip",
        "pollRep",
        "ip",
        "pkiconf",
    ]
    assert len(slept) == 1 and 0.9 < slept[0] <= 1.01


def test_polling_sans_io() -> None:
    ca = FakeCa(secrets={REF: SECRET}, wait_polls=2, check_after=5)
    now = time.time()
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT, now=now)
    first = tx.request()
    assert first is not None
    step = tx.handle_response(ca(first), now=now)
    # ip with status waiting: the client polls at once
    assert isinstance(step, Waiting)
    poll = tx.request()
    assert poll is not None and Message.parse(poll).body_type == "pollReq"
    step = tx.handle_response(ca.handle_request(poll, now=now).der, now=now)
    assert isinstance(step, Waiting) and step.until == pytest.approx(now + 5, abs=0.01)
    assert tx.request() is None and tx.poll_timeout() == pytest.approx(now + 5, abs=0.01)
    tx.handle_timeout(now=now + 1)
    assert tx.request() is None  # not due yet
    tx.handle_timeout(now=now + 5)
    poll = tx.request()
    assert poll is not None
    step = tx.handle_response(ca.handle_request(poll, now=now + 5).der, now=now + 5)
    assert isinstance(step, CertificateIssued)


def test_implicit_confirm() -> None:
    ca = FakeCa(secrets={REF: SECRET}, grant_implicit_confirm=True)
    tx = ClientTransaction.ir(
        mac_config(implicit_confirm=True), key=PrivateKey.generate(), subject=SUBJECT
    )
    result = run_transaction(tx, ca)
    assert result.implicit_confirm_granted
    assert len(result.exchanges) == 1
    assert isinstance(result.steps[-1], Completed)


def test_rejection_raises_rejected_with_status() -> None:
    ca = FakeCa(secrets={REF: SECRET}, reject=["badCertTemplate"], reject_text="no such profile")
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT)
    with pytest.raises(Rejected) as e:
        run_transaction(tx, ca)
    err = e.value
    assert err.code == 500 and err.name == "CMP_PEER_ERROR" and err.kind == "peer"
    assert err.status == "rejection"
    assert err.fail_info == ["badCertTemplate"]
    assert err.status_string == ["no such profile"]
    assert err.body == "ip"
    assert err.error_code is None and err.error_details == []
    assert tx.is_finished and not tx.is_completed


def test_client_rejects_the_certificate() -> None:
    events: list = []
    ca = FakeCa(secrets={REF: SECRET})
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT)

    def send(req: bytes) -> bytes:
        reply = ca.handle_request(req)
        if reply.event is not None:
            events.append(reply.event)
        return reply.der

    result = run_transaction(tx, send, confirm=lambda issued: False)
    assert result.certificate is None and result.issued is not None
    assert [e.kind for e in events] == ["confirmation_rejected"]
    assert events[0].fail_info == ["incorrectData"]
    assert events[0].certificate == result.issued.certificate


def test_fake_ca_decide_callback() -> None:
    seen: list = []

    def decide(p: PendingRequest) -> object:
        seen.append((p.kind, p.subject, p.polls))
        if p.subject == "CN=Forbidden":
            return p.reject(["notAuthorized"], "not you")
        return None  # the default policy

    ca = FakeCa(secrets={REF: SECRET}, decide=decide)
    ok = run_transaction(
        ClientTransaction.cr(mac_config(), key=PrivateKey.generate(), subject="CN=Fine"), ca
    )
    assert ok.certificate is not None
    with pytest.raises(Rejected) as e:
        run_transaction(
            ClientTransaction.cr(mac_config(), key=PrivateKey.generate(), subject="CN=Forbidden"),
            ca,
        )
    assert e.value.fail_info == ["notAuthorized"]
    assert seen == [("cr", "CN=Fine", 0), ("cr", "CN=Forbidden", 0)]


def test_decide_exception_propagates_and_client_gets_an_answer() -> None:
    def decide(p: PendingRequest) -> object:
        raise RuntimeError("boom")

    responder = Responder(ResponderConfig(secrets={REF: SECRET}))
    tx = ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT)
    req = tx.request()
    with pytest.raises(RuntimeError, match="boom"):
        responder.handle_request_with(req, decide)


def test_handle_request_with_and_events() -> None:
    responder = Responder(ResponderConfig(secrets={REF: SECRET}, grant_implicit_confirm=True))
    tx = ClientTransaction.ir(
        mac_config(implicit_confirm=True), key=PrivateKey.from_pem(pki("issued.key")), subject=SUBJECT
    )
    reply = responder.handle_request_with(tx.request(), lambda p: p.issue(pki("issued.crt")))
    assert reply.event is not None and reply.event.kind == "implicitly_confirmed"
    step = tx.handle_response(reply.der)
    assert isinstance(step, CertificateIssued) and step.implicit_confirm_granted
    assert isinstance(tx.confirm(), Completed)


def test_total_timeout() -> None:
    from cmp_protocol import TransactionTimeout

    ca = FakeCa(secrets={REF: SECRET}, wait_polls=100, check_after=30)
    now = time.time()
    tx = ClientTransaction.ir(
        mac_config(total_timeout=60), key=PrivateKey.generate(), subject=SUBJECT, now=now
    )
    tx.handle_response(ca.handle_request(tx.request(), now=now).der, now=now)
    tx.handle_response(ca.handle_request(tx.request(), now=now).der, now=now)
    with pytest.raises(TransactionTimeout) as e:
        tx.handle_timeout(now=now + 61)
    assert e.value.code == 104 and e.value.name == "CMP_TIMEOUT"
