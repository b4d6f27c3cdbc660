"""The exception hierarchy against the one mapping table (docs/errors.md)."""

from __future__ import annotations

import re

import pytest

import cmp_protocol
from cmp_protocol import (
    CmpError,
    ConfigError,
    CryptoError,
    DecodeError,
    EncodeError,
    PeerError,
    ProtectionError,
    ProtocolError,
    Rejected,
    StoreError,
    TransactionTimeout,
    UnauthenticatedErrorMessage,
    UsageError,
    error_table,
    failure_bits,
)
from cmp_protocol.errors import _from_native, error_class

from conftest import ROOT

ROW = re.compile(r"^\| (\d+) \| `(CMP_[A-Z_]+)` \| (local|remote|peer) \| (\w+) \|", re.M)


def documented() -> list:
    text = (ROOT / "docs" / "errors.md").read_text()
    return [(int(c), n, k, b) for c, n, k, b in ROW.findall(text)]


def test_native_table_is_the_documented_table() -> None:
    assert error_table() == documented()
    assert len(error_table()) == 42


EXPECTED_BASE = {
    100: UsageError,
    101: ConfigError,
    102: EncodeError,
    103: CryptoError,
    104: TransactionTimeout,
    105: StoreError,
    500: Rejected,
    501: UnauthenticatedErrorMessage,
}


@pytest.mark.parametrize("row", error_table(), ids=lambda r: r[1])
def test_every_code_has_its_class(row: tuple) -> None:
    code, name, kind, bit = row
    cls = error_class(code)
    expected = EXPECTED_BASE.get(code) or {2: DecodeError, 3: ProtectionError, 4: ProtocolError}[
        code // 100
    ]
    assert cls is expected
    e = _from_native(code, name, "text", kind, bit, None if code < 500 else {"status": "rejection"})
    assert isinstance(e, CmpError) and type(e) is cls
    assert (e.code, e.name, e.kind, e.failure_bit, e.message) == (code, name, kind, bit, "text")
    assert name in str(e) and str(code) in str(e)
    if code >= 500:
        assert isinstance(e, PeerError)


def test_failure_bits_are_the_rfc_names() -> None:
    bits = failure_bits()
    assert len(bits) == 27
    assert bits[0] == "badAlg" and bits[9] == "badPOP" and bits[26] == "duplicateCertReq"


def test_usage_errors_from_native_code() -> None:
    key = cmp_protocol.PrivateKey.generate()
    cfg = cmp_protocol.ClientConfig(reference=b"1", secret=b"2")
    tx = cmp_protocol.ClientTransaction.ir(cfg, key=key, subject="CN=x")
    with pytest.raises(UsageError) as e:
        tx.confirm()  # nothing to confirm yet
    assert e.value.code == 100 and e.value.name == "CMP_USAGE" and e.value.kind == "local"
    with pytest.raises(ValueError):
        cmp_protocol.ClientTransaction.ir(cfg, key=key, subject="not a name")
    with pytest.raises(ValueError):
        tx.confirm(False, fail_info=["noSuchBit"])


def test_crypto_error_for_a_bad_key() -> None:
    with pytest.raises(CryptoError) as e:
        cmp_protocol.PrivateKey.from_der(b"\x30\x03\x02\x01\x00")
    assert e.value.code == 103


SHORT_ROW = re.compile(r"^\| (\d+) \| `(CMP_[A-Z_]+)` \| [^|]+ \|$", re.M)


def documented_short(lo: int, hi: int) -> list:
    text = (ROOT / "docs" / "errors.md").read_text()
    return [(int(c), n) for c, n in SHORT_ROW.findall(text) if lo <= int(c) < hi]


def test_announcement_and_coap_tables_are_the_documented_ones() -> None:
    from cmp_protocol import AnnouncementError, CoapError, announce_error_table, coap_error_table

    assert announce_error_table() == documented_short(600, 700)
    assert len(announce_error_table()) == 17
    assert coap_error_table() == documented_short(700, 800)
    assert len(coap_error_table()) == 9
    for code, name in announce_error_table():
        e = _from_native(code, name, "text", "remote", "badMessageCheck", None)
        assert type(e) is AnnouncementError and error_class(code) is AnnouncementError
        assert isinstance(e, CmpError) and e.code == code and e.name == name
    for code, name in coap_error_table():
        assert error_class(code) is CoapError
