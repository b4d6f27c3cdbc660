"""Round trip of the shared vectors (tests/vectors/*.der)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmp_protocol import Message, ProtectionError

from conftest import SECRET, VECTORS

FILES = sorted(VECTORS.glob("*.der"))

# exchange -> body types of request/response number N
EXPECTED = {
    ("ir-pbm", 1): ("ir", "ip"),
    ("ir-pbm", 2): ("certConf", "pkiconf"),
    ("ir-sig", 1): ("ir", "ip"),
    ("cr-pbm", 1): ("cr", "cp"),
    ("kur-sig", 1): ("kur", "kup"),
    ("p10cr-pbm", 1): ("p10cr", "cp"),
    ("rr-sig", 1): ("rr", "rp"),
    ("genm-pbm", 1): ("genm", "genp"),
    ("ir-poll", 1): ("ir", "ip"),
    ("ir-poll", 2): ("pollReq", "pollRep"),
    ("ir-rejected", 1): ("ir", "ip"),
    ("ir-error", 1): ("ir", "error"),
}


def test_there_are_vectors() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parse_and_reencode_round_trip(path: Path) -> None:
    data = path.read_bytes()
    m = Message.parse(data)
    assert m.encode() == data
    assert m.reencode() == data
    assert bytes(m.modified()) == data
    assert Message.parse(m.reencode()).body_type == m.body_type
    assert m.pvno == 2
    assert m.transaction_id and len(m.sender_nonce or b"") >= 8
    assert m.describe()
    name, n, direction = path.name.split(".")[:3]
    want = EXPECTED.get((name, int(n)))
    if want is not None:
        assert m.body_type == want[0 if direction == "req" else 1]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_protection_of_vectors_verifies(path: Path) -> None:
    m = Message.parse(path.read_bytes())
    if m.protection_kind == "mac":
        m.verify_mac(SECRET)
        with pytest.raises(ProtectionError) as e:
            m.verify_mac(b"wrong")
        assert e.value.name == "CMP_BAD_MESSAGE_CHECK"
    elif m.protection_kind == "signature":
        m.verify_signature()
        with pytest.raises(ProtectionError):
            m.corrupt_protection().verify_signature()
    else:
        assert m.protection_kind == "none"


def test_ip_fields() -> None:
    ip = Message.parse((VECTORS / "ir-pbm.1.rsp.der").read_bytes())
    req = Message.parse((VECTORS / "ir-pbm.1.req.der").read_bytes())
    assert ip.status == "accepted"
    assert ip.fail_info == []
    assert ip.certificates == [_der("issued.crt")]
    assert ip.ca_pubs == [_der("root.crt")]
    assert ip.recip_nonce == req.sender_nonce
    assert ip.transaction_id == req.transaction_id
    assert ip.protection_alg_name == "PasswordBasedMac"
    assert ip.sender_kid == b"1234"
    assert req.sender == "CN=Test Device"
    assert req.cert_req_id == 0
    assert isinstance(req.message_time, float)


def test_rejected_and_error_vectors() -> None:
    rej = Message.parse((VECTORS / "ir-rejected.1.rsp.der").read_bytes())
    assert rej.status == "rejection"
    assert rej.fail_info == ["badPOP"]
    assert rej.status_string == ["rejected_by_policy"]
    assert rej.certificates == []
    err = Message.parse((VECTORS / "ir-error.1.rsp.der").read_bytes())
    assert err.body_type == "error"
    assert err.status == "rejection"
    assert err.fail_info
    assert isinstance(err.error_code, int)
    assert err.error_details


def test_poll_and_implicit_vectors() -> None:
    rep = Message.parse((VECTORS / "ir-poll.2.rsp.der").read_bytes())
    assert rep.check_after == 1
    assert rep.cert_req_id == 0
    first = Message.parse((VECTORS / "ir-poll.1.rsp.der").read_bytes())
    assert first.status == "waiting"
    assert Message.parse((VECTORS / "ir-implicit.1.req.der").read_bytes()).implicit_confirm
    assert Message.parse((VECTORS / "ir-implicit.1.rsp.der").read_bytes()).implicit_confirm


def _der(name: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from conftest import pki

    return x509.load_pem_x509_certificate(pki(name)).public_bytes(Encoding.DER)
