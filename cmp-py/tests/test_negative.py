"""Negative messages built with the toolkit, checked against the
responder's error replies (and the client's checks of broken replies)."""

from __future__ import annotations

import time
from typing import Tuple

import pytest

from cmp_protocol import (
    CertificateIssued,
    ClientConfig,
    ClientTransaction,
    CmpError,
    DecodeError,
    FakeCa,
    Message,
    PrivateKey,
    ProtectionError,
    ProtocolError,
    Reply,
    UnauthenticatedErrorMessage,
)

from conftest import REF, SECRET

SUBJECT = "CN=Test Device"
PKICONF_BODY = bytes.fromhex("b3020500")  # [19] EXPLICIT NULL


@pytest.fixture
def ca() -> FakeCa:
    return FakeCa(secrets={REF: SECRET})


def config(**kw: object) -> ClientConfig:
    return ClientConfig(reference=REF, secret=SECRET, **kw)  # type: ignore[arg-type]


def fresh_ir(**kw: object) -> Tuple[ClientTransaction, Message]:
    tx = ClientTransaction.ir(config(), key=PrivateKey.generate(), subject=SUBJECT, **kw)  # type: ignore[arg-type]
    data = tx.request()
    assert data is not None
    return tx, Message.parse(data)


def check_error(reply: Reply, name: str, code: int, bit: str) -> Message:
    """The reply is an error message carrying the code and failInfo bit of docs/errors.md."""
    assert reply.body == "error"
    err = reply.error
    assert isinstance(err, CmpError)
    assert (err.name, err.code, err.failure_bit) == (name, code, bit)
    m = reply.message()
    assert m.body_type == "error"
    assert m.status == "rejection"
    assert m.fail_info == [bit]
    assert m.error_code == code
    return m


def reprotect(m: Message) -> bytes:
    return m.protect_mac(REF, SECRET).encode()


@pytest.mark.parametrize(
    "change, name, code, bit",
    [
        (dict(pvno=5), "CMP_UNSUPPORTED_VERSION", 400, "unsupportedVersion"),
        (dict(transaction_id=None), "CMP_MISSING_HEADER_FIELD", 401, "badRequest"),
        (dict(sender_nonce=b"short"), "CMP_BAD_SENDER_NONCE", 405, "badSenderNonce"),
        (dict(sender_nonce=None), "CMP_BAD_SENDER_NONCE", 405, "badSenderNonce"),
        (dict(message_time=1_000_000_000.0), "CMP_BAD_TIME", 406, "badTime"),
        (dict(body=PKICONF_BODY), "CMP_UNEXPECTED_BODY", 408, "badRequest"),
    ],
)
def test_reprotected_header_changes(
    ca: FakeCa, change: dict, name: str, code: int, bit: str
) -> None:
    _, ir = fresh_ir()
    bad = ir.modified(**change)
    for field, value in change.items():
        if field != "body":
            assert getattr(bad, field) == value
    check_error(ca.handle_request(reprotect(bad)), name, code, bit)


def test_unprotected_header_change_breaks_the_mac(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    m = check_error(
        ca.handle_request(ir.modified(transaction_id=b"x" * 16).encode()),
        "CMP_BAD_MESSAGE_CHECK",
        303,
        "badMessageCheck",
    )
    # the error reply is MAC-protected with the client's secret and echoes the nonce
    m.verify_mac(SECRET)
    assert m.recip_nonce == ir.sender_nonce


def test_missing_protection(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    bad = ir.without_protection()
    assert bad.protection is None and bad.protection_alg is None and bad.protection_kind == "none"
    check_error(ca.handle_request(bad.encode()), "CMP_MISSING_PROTECTION", 300, "badMessageCheck")


def test_corrupted_protection(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    bad = ir.corrupt_protection()
    assert bad.protection != ir.protection
    check_error(ca.handle_request(bad.encode()), "CMP_BAD_MESSAGE_CHECK", 303, "badMessageCheck")


def test_unknown_protection_algorithm(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    bad = ir.modified(protection_alg="1.2.3.4.5")
    assert bad.protection_kind == "invalid"
    check_error(ca.handle_request(bad.encode()), "CMP_UNSUPPORTED_ALGORITHM", 301, "badAlg")


def test_signature_algorithm_on_mac_bits(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    bad = ir.modified(protection_alg="1.2.840.10045.4.3.2")  # ecdsa-with-SHA256
    assert bad.protection_kind == "signature"
    reply = ca.handle_request(bad.encode())
    assert reply.body == "error"
    assert isinstance(reply.error, ProtectionError)


def test_unknown_reference(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    bad = ir.protect_mac(b"nobody", SECRET)
    assert bad.sender_kid == b"nobody"
    check_error(ca.handle_request(bad.encode()), "CMP_UNKNOWN_CREDENTIAL", 305, "badMessageCheck")


def test_pbmac1_protection_is_accepted(ca: FakeCa) -> None:
    tx, ir = fresh_ir()
    again = ir.protect_mac(REF, SECRET, pbmac1=True)
    assert again.protection_alg_name != ir.protection_alg_name
    reply = ca.handle_request(again.encode())
    assert reply.body == "ip"
    assert isinstance(tx.handle_response(reply.der), CertificateIssued)


def test_transaction_id_in_use(ca: FakeCa) -> None:
    _, ir = fresh_ir()
    assert ca.handle_request(ir.encode()).body == "ip"
    again = ir.modified(sender_nonce=b"n" * 16)
    check_error(
        ca.handle_request(reprotect(again)), "CMP_TRANSACTION_ID_IN_USE", 403, "transactionIdInUse"
    )


def test_missing_pop_and_ra_verified_without_authority(ca: FakeCa) -> None:
    key = PrivateKey.generate()
    tx = ClientTransaction.ir(config(), key=key, subject=SUBJECT, pop="none")
    check_error(ca.handle_request(tx.request()), "CMP_BAD_POP", 411, "badPOP")
    tx = ClientTransaction.ir(
        config(), public_key=key.public_key_der(), subject=SUBJECT, pop="ra_verified"
    )
    check_error(ca.handle_request(tx.request()), "CMP_NOT_AUTHORIZED", 414, "notAuthorized")


def test_bad_cert_req_id(ca: FakeCa) -> None:
    tx = ClientTransaction.ir(config(), key=PrivateKey.generate(), subject=SUBJECT, cert_req_id=7)
    check_error(ca.handle_request(tx.request()), "CMP_BAD_REQUEST", 409, "badRequest")


def test_garbage_is_bad_data_format(ca: FakeCa) -> None:
    check_error(ca.handle_request(b"\x30\x03\x02\x01"), "CMP_DECODE", 200, "badDataFormat")
    with pytest.raises(DecodeError) as e:
        Message.parse(b"not DER")
    assert e.value.code == 200 and e.value.kind == "remote"


def cert_conf_of(ca: FakeCa) -> Message:
    tx, ir = fresh_ir()
    step = tx.handle_response(ca.handle_request(ir.encode()).der)
    assert isinstance(step, CertificateIssued)
    tx.confirm()
    data = tx.request()
    assert data is not None
    return Message.parse(data)


def test_cert_conf_with_wrong_recip_nonce(ca: FakeCa) -> None:
    conf = cert_conf_of(ca)
    bad = conf.modified(recip_nonce=b"\x00" * 16)
    check_error(ca.handle_request(reprotect(bad)), "CMP_BAD_RECIPIENT_NONCE", 404, "badRecipientNonce")


def test_cert_conf_for_unknown_transaction(ca: FakeCa) -> None:
    conf = cert_conf_of(ca)
    bad = conf.modified(transaction_id=b"\x01" * 16)
    check_error(ca.handle_request(reprotect(bad)), "CMP_BAD_REQUEST", 409, "badRequest")


def test_cert_conf_twice(ca: FakeCa) -> None:
    conf = cert_conf_of(ca)
    assert ca.handle_request(conf.encode()).body == "pkiconf"
    again = conf.modified(sender_nonce=b"m" * 16)
    check_error(ca.handle_request(reprotect(again)), "CMP_CERT_CONFIRMED", 415, "certConfirmed")


def test_build_from_scratch(ca: FakeCa) -> None:
    m = Message.build(PKICONF_BODY, sender="CN=Someone", pvno=3)
    assert (m.body_type, m.sender, m.pvno, m.protection_kind) == ("pkiconf", "CN=Someone", 3, "none")
    assert len(m.transaction_id or b"") == 16 and abs((m.message_time or 0) - time.time()) < 5
    assert Message.parse(m.encode()).sender == "CN=Someone"
    check_error(
        ca.handle_request(m.protect_mac(REF, SECRET).encode()),
        "CMP_UNEXPECTED_BODY",
        408,
        "badRequest",
    )
    with pytest.raises(TypeError):
        m.modified(no_such_field=1)


# ----- the client's checks of broken replies -----


def reply_to_fresh_ir(ca: FakeCa) -> Tuple[ClientTransaction, Message]:
    tx, ir = fresh_ir()
    return tx, ca.handle_request(ir.encode()).message()


@pytest.mark.parametrize(
    "change, exc, name",
    [
        (dict(recip_nonce=b"\x00" * 16), ProtocolError, "CMP_BAD_RECIPIENT_NONCE"),
        (dict(transaction_id=b"\x00" * 16), ProtocolError, "CMP_TRANSACTION_ID_MISMATCH"),
        (dict(pvno=1), ProtocolError, "CMP_UNSUPPORTED_VERSION"),
        (dict(message_time=1_000_000_000.0), ProtocolError, "CMP_BAD_TIME"),
    ],
)
def test_client_rejects_broken_replies(ca: FakeCa, change: dict, exc: type, name: str) -> None:
    tx, ip = reply_to_fresh_ir(ca)
    with pytest.raises(exc) as e:
        tx.handle_response(reprotect(ip.modified(**change)))
    assert e.value.name == name
    assert tx.is_finished and not tx.is_completed


def test_client_rejects_bad_reply_protection(ca: FakeCa) -> None:
    tx, ip = reply_to_fresh_ir(ca)
    with pytest.raises(ProtectionError) as e:
        tx.handle_response(ip.corrupt_protection().encode())
    assert e.value.name == "CMP_BAD_MESSAGE_CHECK"
    tx, ip = reply_to_fresh_ir(ca)
    with pytest.raises(ProtectionError) as e:
        tx.handle_response(ip.without_protection().encode())
    assert e.value.name == "CMP_MISSING_PROTECTION"


def test_unprotected_error_message_is_reported_not_trusted(ca: FakeCa) -> None:
    tx, ir = fresh_ir()
    error = ca.handle_request(ir.modified(pvno=9).encode()).message()  # an error reply
    assert error.body_type == "error"
    with pytest.raises(UnauthenticatedErrorMessage) as e:
        tx.handle_response(error.without_protection().encode())
    assert e.value.code == 501 and e.value.fail_info == ["badMessageCheck"]
    assert e.value.error_code == 303
