"""Key archiving by the requester (pkiArchiveOptions, RFC 4211 section 6.4):
the request's private key sent encrypted under the MAC secret or for the
CA's certificate, opened and checked by the responder, archived by FakeCa
and recovered with krr; and the refusals on both sides."""

from __future__ import annotations

from typing import Optional

import pytest

from cmp_protocol import (
    ClientConfig,
    ClientTransaction,
    EnvelopeKey,
    FakeCa,
    KemPrivateKey,
    PendingRequest,
    PrivateKey,
    ProtocolError,
    Rejected,
    Reply,
    Responder,
    ResponderConfig,
    generate_root_ca,
    run_transaction,
)

from conftest import REF, SECRET

SUBJECT = "CN=Archiving Device"


def mac_config() -> ClientConfig:
    return ClientConfig(reference=REF, secret=SECRET)


def test_archived_under_the_mac_secret_and_recovered_by_krr() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    key = PrivateKey.generate()
    tx = ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT, archive_key=True)
    issued = run_transaction(tx, ca)
    assert issued.completed and issued.certificate is not None
    assert ca.archived_keys == 1
    assert ca.archived_keys_of(SUBJECT) == [(issued.certificate, key.to_der())]

    krr = ClientTransaction.krr(mac_config(), EnvelopeKey.password(SECRET), subject=SUBJECT)
    got = run_transaction(krr, ca).recovered
    assert got is not None and got.status == "accepted"
    assert got.keys == [(issued.certificate, key.to_der())]
    assert PrivateKey.from_der(got.keys[0][1]).public_key_der() == key.public_key_der()


def test_without_archive_key_nothing_is_archived() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    tx = ClientTransaction.cr(mac_config(), key=PrivateKey.generate(), subject=SUBJECT)
    assert run_transaction(tx, ca).completed
    assert ca.archived_keys == 0 and ca.archived_keys_of(SUBJECT) == []


@pytest.mark.parametrize("alg", ["ec:P-256", "rsa2048"])
def test_archived_for_the_ca_certificate_by_agreement_or_transport(alg: str) -> None:
    # a signature-protected client has no MAC secret: the CA's certificate
    # is the only recipient (EC: key agreement, RSA: key transport)
    ca = FakeCa(secrets={REF: SECRET}, key_algorithm=alg)
    own = PrivateKey.generate()
    own_cert = ca.issue_certificate(SUBJECT, own)
    config = ClientConfig(key=own, cert=own_cert, server_trust=[ca.root])
    key = PrivateKey.generate()
    tx = ClientTransaction.cr(
        config, key=key, subject=SUBJECT, archive_key=True, archive_cert=ca.ca_certificate
    )
    issued = run_transaction(tx, ca)
    assert ca.archived_keys_of(SUBJECT) == [(issued.certificate, key.to_der())]

    # kur of that certificate archives the new key too; krr returns both
    new_key = PrivateKey.generate("ec:P-384")
    renew = ClientConfig(key=key, cert=issued.certificate, server_trust=[ca.root])
    tx = ClientTransaction.kur(
        renew,
        key=new_key,
        old_cert=issued.certificate,
        archive_key=True,
        archive_cert=ca.ca_certificate,
    )
    renewed = run_transaction(tx, ca)
    expected = [(issued.certificate, key.to_der()), (renewed.certificate, new_key.to_der())]
    assert ca.archived_keys_of(SUBJECT) == expected

    krr = ClientTransaction.krr(config, EnvelopeKey.private_key(own, own_cert), subject=SUBJECT)
    got = run_transaction(krr, ca).recovered
    assert got is not None and got.keys == expected


def test_ccr_archives_the_cross_certified_key() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    key = PrivateKey.generate()
    tx = ClientTransaction.ccr(
        mac_config(), key=key, subject="CN=Partner CA", archive_key=True
    )
    issued = run_transaction(tx, ca)
    assert ca.archived_keys_of("CN=Partner CA") == [(issued.certificate, key.to_der())]


def test_a_key_for_another_certificate_is_refused_key_not_for_us() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    # the root's key is not the issuing CA's: the CA cannot open it, nor can
    # the MAC secret
    tx = ClientTransaction.ir(
        mac_config(),
        key=PrivateKey.generate(),
        subject=SUBJECT,
        archive_key=True,
        archive_cert=ca.root,
    )
    with pytest.raises(Rejected) as e:
        run_transaction(tx, ca)
    assert e.value.body == "ip" and e.value.fail_info == ["incorrectData"]
    assert any("not encrypted for our key or password" in s for s in e.value.status_string)
    assert ca.archived_keys == 0 and ca.issued == []


def test_archive_cert_that_cannot_receive_a_key_is_refused_before_sending() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    ml_dsa = PrivateKey.generate("ml-dsa-44")
    cert = ca.issue_certificate("CN=ML-DSA", ml_dsa)
    with pytest.raises(ProtocolError) as e:
        ClientTransaction.ir(
            mac_config(), key=PrivateKey.generate(), subject=SUBJECT, archive_key=True,
            archive_cert=cert,
        )
    assert e.value.name == "CMP_BAD_REQUEST"


def test_usage_errors_are_value_errors() -> None:
    ca = FakeCa(secrets={REF: SECRET})
    key = PrivateKey.generate()
    # archive_cert alone
    with pytest.raises(ValueError, match="archive_cert needs archive_key"):
        ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT, archive_cert=ca.ca_certificate)
    # no private key to archive: only the public key
    with pytest.raises(ValueError, match="archive_key needs key"):
        ClientTransaction.ir(
            mac_config(), public_key=key.public_key_der(), pop="none", subject=SUBJECT,
            archive_key=True,
        )
    # a KEM key proves possession by decryption; it is not archived
    with pytest.raises(ValueError, match="KemPrivateKey"):
        ClientTransaction.ir(
            mac_config(), key=KemPrivateKey.generate(), pop="encrypted_cert", subject=SUBJECT,
            archive_key=True,
        )
    # neither a MAC secret nor a certificate to encrypt for
    own = PrivateKey.generate()
    signed = ClientConfig(key=own, cert=ca.issue_certificate("CN=Own", own))
    with pytest.raises(ValueError, match="needs archive_cert"):
        ClientTransaction.cr(signed, key=key, subject=SUBJECT, archive_key=True)


# ----- the responder's side: PendingRequest.archived_key -----


class RaSetup:
    """A root CA whose key opens archived keys, an RA certificate it
    authorises for raVerified, and a Responder deciding with `decide`."""

    def __init__(self) -> None:
        self.ca_key, self.ca_cert = generate_root_ca("Archive Root")
        issuer = FakeCa(ca_key=self.ca_key, ca_cert=self.ca_cert)
        self.ra_key = PrivateKey.generate()
        self.ra_cert = issuer.issue_certificate("CN=RA", self.ra_key)
        signer_key = PrivateKey.generate()
        self.responder = Responder(
            ResponderConfig(
                secrets={REF: SECRET},
                client_trust=[self.ca_cert],
                authorized_ras=[self.ra_cert],
                signer_key=signer_key,
                signer_cert=issuer.issue_certificate("CN=Responder", signer_key),
            )
        )
        self.opener = EnvelopeKey.private_key(self.ca_key, self.ca_cert)
        self.seen: list = []

    def decide(self, p: PendingRequest) -> Reply:
        self.seen.append(p.mac_secret)
        try:
            archived = p.archived_key([self.opener, EnvelopeKey.password(SECRET)])
        except ProtocolError as e:
            self.seen.append(e)
            return p.reject(["incorrectData"], str(e))
        self.seen.append(archived)
        return p.reject(["badRequest"], "seen; not issued")

    def send(self, request: bytes) -> bytes:
        return self.responder.handle_request_with(request, self.decide).der

    def ra_config(self) -> ClientConfig:
        return ClientConfig(key=self.ra_key, cert=self.ra_cert, server_trust=[self.ca_cert])


def run_until_rejected(setup: RaSetup, tx: ClientTransaction) -> None:
    with pytest.raises(Rejected):
        run_transaction(tx, setup.send)


def test_pending_request_opens_the_archived_key_under_the_mac_secret() -> None:
    s = RaSetup()
    key = PrivateKey.generate()
    run_until_rejected(s, ClientTransaction.ir(mac_config(), key=key, subject=SUBJECT, archive_key=True))
    assert s.seen == [SECRET, key.to_der()]


def test_pending_request_without_archive_options_gives_none() -> None:
    s = RaSetup()
    run_until_rejected(s, ClientTransaction.ir(mac_config(), key=PrivateKey.generate(), subject=SUBJECT))
    assert s.seen == [SECRET, None]


def test_pending_request_opens_a_key_archived_for_the_ca_certificate() -> None:
    s = RaSetup()
    key = PrivateKey.generate()
    tx = ClientTransaction.ir(
        s.ra_config(), key=key, subject=SUBJECT, archive_key=True, archive_cert=s.ca_cert
    )
    run_until_rejected(s, tx)
    # signature-protected: no MAC secret
    assert s.seen == [None, key.to_der()]


def test_a_key_that_is_not_the_requested_ones_is_key_mismatch() -> None:
    s = RaSetup()
    requested = PrivateKey.generate()
    other = PrivateKey.generate()
    # raVerified by an authorised RA: the template's public key is
    # `requested`, the archived private key is `other`
    tx = ClientTransaction.ir(
        s.ra_config(),
        key=other,
        public_key=requested.public_key_der(),
        pop="ra_verified",
        subject=SUBJECT,
        archive_key=True,
        archive_cert=s.ca_cert,
    )
    with pytest.raises(Rejected) as rejected:
        run_transaction(tx, s.send)
    assert rejected.value.fail_info == ["incorrectData"]
    error: Optional[ProtocolError] = s.seen[1]
    assert isinstance(error, ProtocolError)
    assert (error.code, error.name) == (423, "CMP_KEY_MISMATCH")


def test_a_key_no_opener_is_addressed_by_is_key_not_for_us() -> None:
    s = RaSetup()
    _, other_root = generate_root_ca("Other Root")
    tx = ClientTransaction.ir(
        s.ra_config(), key=PrivateKey.generate(), subject=SUBJECT, archive_key=True,
        archive_cert=other_root,
    )
    run_until_rejected(s, tx)
    error = s.seen[1]
    assert isinstance(error, ProtocolError)
    assert (error.code, error.name) == (420, "CMP_KEY_NOT_FOR_US")
