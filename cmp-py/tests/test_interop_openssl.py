"""Full exchanges with OpenSSL's CMP mock server on loopback
(tests/interop/mock-server.sh, fixed PKI, PBM reference 1234 / 1234-5678)."""

from __future__ import annotations

import pytest
from cryptography import x509

from cmp_protocol import (
    ClientConfig,
    ClientTransaction,
    Message,
    PrivateKey,
    Rejected,
    http_sender,
    run_transaction,
    run_transaction_http,
)

from conftest import REF, SECRET, pki

SUBJECT = "CN=Test Device"


def config(**kw: object) -> ClientConfig:
    return ClientConfig(
        reference=REF, secret=SECRET, server_trust=[pki("root.crt")], **kw  # type: ignore[arg-type]
    )


def issued_der() -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pki("issued.crt")).public_bytes(Encoding.DER)


@pytest.mark.parametrize("kind", ["ir", "cr"])
def test_enrollment_over_http(mock_server, kind: str) -> None:
    key = PrivateKey.from_pem(pki("issued.key"))
    start = getattr(ClientTransaction, kind)
    result = run_transaction_http(start(config(), key=key, subject=SUBJECT), mock_server.url)
    assert result.certificate == issued_der()
    cert = x509.load_der_x509_certificate(result.certificate)
    assert cert.subject.rfc4514_string() == SUBJECT
    assert [Message.parse(r).body_type for _, r in result.exchanges] == [
        "ip" if kind == "ir" else "cp",
        "pkiconf",
    ]
    for _, rsp in result.exchanges:
        Message.parse(rsp).verify_mac(SECRET)


def test_p10cr_and_genm_over_http(mock_server) -> None:
    send = http_sender(mock_server.url)
    result = run_transaction(ClientTransaction.p10cr(config(), pki("csr.der")), send)
    assert result.certificate == issued_der()
    genm = run_transaction(ClientTransaction.genm(config(), []), send)
    assert Message.parse(genm.exchanges[0][1]).body_type == "genp"


def test_implicit_confirm_over_http(mock_server_factory) -> None:
    server = mock_server_factory("-grant_implicitconf")
    key = PrivateKey.from_pem(pki("issued.key"))
    tx = ClientTransaction.ir(config(implicit_confirm=True), key=key, subject=SUBJECT)
    result = run_transaction_http(tx, server.url)
    assert result.implicit_confirm_granted and len(result.exchanges) == 1


def test_polling_over_http(mock_server_factory) -> None:
    server = mock_server_factory("-poll_count", "1", "-check_after", "1")
    key = PrivateKey.from_pem(pki("issued.key"))
    result = run_transaction_http(
        ClientTransaction.ir(config(), key=key, subject=SUBJECT), server.url
    )
    assert result.certificate == issued_der()
    assert result.polls >= 1
    assert "pollReq" in [Message.parse(q).body_type for q, _ in result.exchanges]


def test_rejection_over_http(mock_server_factory) -> None:
    server = mock_server_factory("-pkistatus", "2", "-failure", "9", "-statusstring", "no way")
    key = PrivateKey.from_pem(pki("issued.key"))
    with pytest.raises(Rejected) as e:
        run_transaction_http(ClientTransaction.ir(config(), key=key, subject=SUBJECT), server.url)
    assert e.value.status == "rejection"
    assert e.value.fail_info == ["badPOP"]
    assert e.value.status_string == ["no way"]


def test_negative_message_against_openssl(mock_server) -> None:
    """A request with damaged protection gets an error message from OpenSSL."""
    send = http_sender(mock_server.url)
    key = PrivateKey.from_pem(pki("issued.key"))
    tx = ClientTransaction.ir(config(), key=key, subject=SUBJECT)
    ir = Message.parse(tx.request() or b"")
    answer = Message.parse(send(ir.corrupt_protection().encode()))
    assert answer.body_type == "error"
    assert answer.status == "rejection"
    assert answer.recip_nonce == ir.sender_nonce
    assert answer.error_details
