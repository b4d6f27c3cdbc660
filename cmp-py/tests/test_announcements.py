"""CA announcements (ckuann, cann, rann, crlann): built on the CA side,
validated on the end-entity side, and every refusal by its code."""

from __future__ import annotations

import time

import pytest
from cryptography import x509

from cmp_protocol import (
    AnnouncementBuilder,
    AnnouncementError,
    AnnouncementValidator,
    ClientConfig,
    ClientTransaction,
    FakeCa,
    PrivateKey,
    ProtectionError,
    UsageError,
    generate_root_ca,
    root_key_update,
)


class Pki:
    """A root CA that issues itself, and an announcer certified by it."""

    def __init__(self, name: str = "Ann") -> None:
        self.root_key, self.root = generate_root_ca(f"{name} Root")
        self.ca = FakeCa(ca_key=self.root_key, ca_cert=self.root)
        self.signer_key = PrivateKey.generate()
        self.signer_cert = self.ca.issue_certificate(f"CN={name} Announcer", self.signer_key)
        self.builder = AnnouncementBuilder(
            key=self.signer_key, cert=self.signer_cert, chain=[self.root]
        )
        self.validator = AnnouncementValidator([self.root])


def refused(pki: Pki, msg: bytes, code: int, name: str) -> None:
    with pytest.raises(AnnouncementError) as e:
        pki.validator.validate(msg)
    assert (e.value.code, e.value.name) == (code, name)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def test_root_ca_and_update_certificates() -> None:
    key, cert = generate_root_ca("Fresh Root", "ec:P-384")
    c = x509.load_der_x509_certificate(cert)
    assert c.subject == c.issuer and c.subject.rfc4514_string() == "CN=Fresh Root"
    assert PrivateKey.from_der(key).algorithm == "ec:P-384"
    nwn, nwo, own, new_key = root_key_update(key, cert)
    assert PrivateKey.from_der(new_key).algorithm == "ec:P-384"
    new_root = x509.load_der_x509_certificate(nwn)
    assert new_root.subject == c.subject and new_root.issuer == c.subject
    assert x509.load_der_x509_certificate(nwo).issuer == c.subject
    assert x509.load_der_x509_certificate(own).public_key() == c.public_key()


def test_root_key_update_is_announced_and_validated(pki: Pki) -> None:
    nwn, nwo, own, _ = root_key_update(pki.root_key, pki.root)
    msg = pki.builder.root_key_update(nwn, nwo, own)
    a = pki.validator.validate(msg)
    assert a.kind == "root_key_update"
    assert (a.old_root, a.new_root, a.new_with_old, a.old_with_new) == (pki.root, nwn, nwo, own)
    assert a.certificate is None and a.crls == []


def test_root_key_update_refusals(pki: Pki) -> None:
    nwn, nwo, own, _ = root_key_update(pki.root_key, pki.root)
    refused(pki, pki.builder.root_key_update(nwn), 601, "CMP_MISSING_NEW_WITH_OLD")
    other = Pki("Other")
    o_nwn, o_nwo, _, _ = root_key_update(other.root_key, other.root)
    refused(pki, pki.builder.root_key_update(o_nwn, o_nwo), 602, "CMP_UNKNOWN_OLD_ROOT")
    # newWithOld of a second update of the same root: another key than newWithNew
    _, nwo2, _, _ = root_key_update(pki.root_key, pki.root)
    refused(pki, pki.builder.root_key_update(nwn, nwo2), 604, "CMP_NEW_WITH_OLD_KEY_MISMATCH")


def test_certificate_announcement(pki: Pki) -> None:
    cert = pki.ca.issue_certificate("CN=Announced", PrivateKey.generate())
    a = pki.validator.validate(pki.builder.certificate(cert))
    assert a.kind == "certificate" and a.certificate == cert
    assert a.path[0] == cert and a.path[-1] == pki.root
    foreign = Pki("Foreign").ca.issue_certificate("CN=Foreign", PrivateKey.generate())
    refused(pki, pki.builder.certificate(foreign), 612, "CMP_ANNOUNCED_CERT_NOT_TRUSTED")


def test_revocation_announcement(pki: Pki) -> None:
    cert = pki.ca.issue_certificate("CN=Soon Revoked", PrivateKey.generate())
    at = float(int(time.time()) + 3600)
    since = float(int(time.time()) - 60)
    msg = pki.builder.revocation(
        cert, status="revocationWarning", at=at, bad_since=since, reason=1
    )
    a = pki.validator.validate(msg)
    assert a.kind == "revocation" and a.status == "revocationWarning"
    parsed = x509.load_der_x509_certificate(cert)
    assert a.issuer == parsed.issuer.rfc4514_string()
    assert int.from_bytes(a.serial or b"", "big") == parsed.serial_number
    assert (a.will_be_revoked_at, a.bad_since, a.reason) == (at, since, 1)
    with pytest.raises(UsageError):
        pki.builder.revocation(cert, status="accepted", at=at, bad_since=since)


def test_crl_announcement(pki: Pki) -> None:
    crl = pki.ca.crl()
    a = pki.validator.validate(pki.builder.crls([crl]))
    assert a.kind == "crls" and a.crls == [crl]
    foreign = Pki("Foreign CRL").ca.crl()
    refused(pki, pki.builder.crls([foreign]), 615, "CMP_CRL_ISSUER_UNKNOWN")
    with pytest.raises(UsageError):
        pki.builder.crls([])


def test_a_request_is_not_an_announcement(pki: Pki) -> None:
    config = ClientConfig(key=pki.signer_key, cert=pki.signer_cert, chain=[pki.root])
    ir = ClientTransaction.ir(config, key=PrivateKey.generate(), subject="CN=x").request()
    assert ir is not None
    refused(pki, ir, 600, "CMP_NOT_AN_ANNOUNCEMENT")


def test_a_tampered_announcement_is_a_protection_error(pki: Pki) -> None:
    cert = pki.ca.issue_certificate("CN=Tampered", PrivateKey.generate())
    msg = pki.builder.certificate(cert)
    assert msg.count(b"CN=Tampered"[3:]) == 1  # the announced certificate's subject
    with pytest.raises(ProtectionError) as e:
        pki.validator.validate(msg.replace(b"Tampered", b"Tamperes"))
    assert 300 <= e.value.code < 400
