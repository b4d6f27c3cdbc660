"""Type stubs of the extension module cmp_protocol._native (pyo3)."""

import builtins
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union, final

from .errors import CmpError

# Inputs accepted where a certificate is expected: DER or PEM bytes, or an
# object with public_bytes(Encoding.DER) such as cryptography's x509.Certificate.
CertificateLike = Any
# A list of CertificateLike, or one bytes/str blob (DER, or PEM with several certificates).
CertificatesLike = Any
# PrivateKey, DER or PEM bytes, or a cryptography private key object.
KeyLike = Any
BytesLike = Union[bytes, bytearray, str]
InfoTypeAndValue = Tuple[str, Optional[bytes]]

Step = Union[
    "Continue",
    "Waiting",
    "CertificateIssued",
    "Revoked",
    "GeneralResponse",
    "KeysRecovered",
    "Completed",
]

def error_table() -> List[Tuple[int, str, str, str]]:
    """(code, name, kind, failure_bit) of every native error (docs/errors.md)."""

def failure_bits() -> List[str]:
    """Every PKIFailureInfo bit name, in bit order."""

def announce_error_table() -> List[Tuple[int, str]]:
    """(code, name) of every announcement error (600-616, docs/errors.md)."""

def coap_error_table() -> List[Tuple[int, str]]:
    """(code, name) of every CoAP framing error (700-708, docs/errors.md)."""

@final
class AnnouncementBuilder:
    """The CA side of announcements: ckuann, cann, rann, crlann (signed or MAC)."""

    def __init__(
        self,
        *,
        key: Optional[KeyLike] = None,
        cert: Optional[CertificateLike] = None,
        chain: Optional[CertificatesLike] = None,
        reference: Optional[BytesLike] = None,
        secret: Optional[BytesLike] = None,
        extra_certs: Optional[CertificatesLike] = None,
        recipient: Optional[str] = None,
    ) -> None: ...
    def root_key_update(
        self,
        new_with_new: CertificateLike,
        new_with_old: Optional[CertificateLike] = None,
        old_with_new: Optional[CertificateLike] = None,
        *,
        now: Optional[float] = None,
    ) -> bytes: ...
    def certificate(self, cert: CertificateLike, *, now: Optional[float] = None) -> bytes: ...
    def revocation(
        self,
        cert: CertificateLike,
        *,
        status: str = "revocationNotification",
        at: float,
        bad_since: float,
        reason: Optional[int] = None,
        now: Optional[float] = None,
    ) -> bytes: ...
    def crls(self, crls: Iterable[bytes], *, now: Optional[float] = None) -> bytes: ...

@final
class AnnouncementValidator:
    """The end-entity side: validates an announcement against trust anchors."""

    def __init__(
        self,
        trust: CertificatesLike,
        *,
        untrusted: Optional[CertificatesLike] = None,
        secret: Optional[BytesLike] = None,
        max_time_skew: Optional[int] = 600,
    ) -> None: ...
    def validate(self, data: BytesLike, now: Optional[float] = None) -> Announcement:
        """Raises AnnouncementError (600-616) or the core error of the message."""

@final
class Announcement:
    """kind: "root_key_update", "certificate", "revocation" or "crls"."""

    @property
    def kind(self) -> str: ...
    @property
    def old_root(self) -> Optional[bytes]: ...
    @property
    def new_root(self) -> Optional[bytes]: ...
    @property
    def new_with_old(self) -> Optional[bytes]: ...
    @property
    def old_with_new(self) -> Optional[bytes]: ...
    @property
    def certificate(self) -> Optional[bytes]: ...
    @property
    def path(self) -> List[bytes]: ...
    @property
    def status(self) -> Optional[str]: ...
    @property
    def issuer(self) -> Optional[str]: ...
    @property
    def serial(self) -> Optional[bytes]: ...
    @property
    def will_be_revoked_at(self) -> Optional[float]: ...
    @property
    def bad_since(self) -> Optional[float]: ...
    @property
    def reason(self) -> Optional[int]: ...
    @property
    def crls(self) -> List[bytes]: ...

def generate_root_ca(
    name: str, key_algorithm: str = "ec:P-256", *, now: Optional[float] = None
) -> Tuple[bytes, bytes]:
    """A self-signed root CA: (private key PKCS#8 DER, certificate DER)."""

def root_key_update(
    root_key: KeyLike,
    root_cert: CertificateLike,
    new_key: Optional[KeyLike] = None,
    *,
    now: Optional[float] = None,
) -> Tuple[bytes, bytes, bytes, bytes]:
    """(new_with_new, new_with_old, old_with_new, new key PKCS#8 DER)."""

#: The CoAP Content-Format of application/pkixcmp.
COAP_CONTENT_FORMAT: int

@final
class CoapBlock:
    """The value of a Block1/Block2 option (RFC 7959)."""

    def __init__(self, num: int, more: bool, size: int) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    @staticmethod
    def decode(value: BytesLike) -> CoapBlock: ...
    def encode(self) -> bytes: ...
    @property
    def num(self) -> int: ...
    @property
    def more(self) -> bool: ...
    @property
    def size(self) -> int: ...
    @property
    def szx(self) -> int: ...
    @property
    def offset(self) -> int: ...

@final
class CoapReassembler:
    def __init__(self, max_total: int = 4194304) -> None: ...
    def push(self, block: CoapBlock, payload: BytesLike) -> Union[CoapBlock, bytes]:
        """The whole body once complete, else the block expected next."""
    @property
    def received(self) -> int: ...

def coap_split(body: BytesLike, size: int = 1024) -> List[Tuple[CoapBlock, bytes]]:
    """Cut a body into blocks of `size` bytes."""

def coap_block_size_for_mtu(mtu: int, overhead: int) -> int:
    """The largest block size fitting the path MTU after `overhead` bytes."""

def coap_uri_path(name: Optional[str] = None, label: Optional[str] = None) -> List[str]:
    """The Uri-Path segments of the CMP resource (RFC 9482)."""

@final
class KemPrivateKey:
    """An ML-KEM key: POP "encrypted_cert" / "challenge_response" and KEM-based MAC protection."""

    @staticmethod
    def generate(algorithm: str = "ml-kem-768") -> KemPrivateKey: ...
    @staticmethod
    def load(data: BytesLike) -> KemPrivateKey: ...
    def to_der(self) -> bytes: ...
    def public_key_der(self) -> bytes: ...
    @property
    def algorithm(self) -> str: ...

def kem_encapsulate_to(cert: CertificateLike) -> Tuple[InfoTypeAndValue, bytes]:
    """Encapsulate to the KEM key of the responder's certificate:
    (generalInfo item for the first request, shared secret)."""

@final
class EnvelopeKey:
    """Opens the EnvelopedData of a centrally generated or recovered key."""

    @staticmethod
    def password(secret: BytesLike) -> EnvelopeKey:
        """The MAC shared secret (password-based recipient info)."""
    @staticmethod
    def private_key(key: KeyLike, cert: CertificateLike) -> EnvelopeKey:
        """The protection key and its certificate (RSA: key transport, EC: key agreement)."""
    @property
    def kind(self) -> str:
        """"password" or "private_key"."""

@final
class PrivateKey:
    @staticmethod
    def from_pem(data: BytesLike) -> PrivateKey: ...
    @staticmethod
    def from_der(data: BytesLike) -> PrivateKey: ...
    @staticmethod
    def generate(algorithm: str = "ec:P-256") -> PrivateKey:
        """"ec:P-256", "ec:P-384", "rsa2048", "rsa3072", "ed25519", "ml-dsa-44/65/87"."""
    @staticmethod
    def load(obj: KeyLike) -> PrivateKey: ...
    def to_der(self) -> bytes:
        """PKCS#8 DER."""
    def to_pem(self) -> bytes:
        """PKCS#8 PEM."""
    def public_key_der(self) -> bytes:
        """SubjectPublicKeyInfo DER."""
    @property
    def algorithm(self) -> Optional[str]: ...
    @property
    def signature_algorithm_oid(self) -> str: ...

@final
class ClientConfig:
    def __init__(
        self,
        *,
        reference: Optional[BytesLike] = None,
        secret: Optional[BytesLike] = None,
        pbmac1: bool = False,
        key: Optional[KeyLike] = None,
        cert: Optional[CertificateLike] = None,
        chain: Optional[CertificatesLike] = None,
        server_trust: Optional[CertificatesLike] = None,
        untrusted: Optional[CertificatesLike] = None,
        response_secret: Optional[BytesLike] = None,
        sender: Optional[str] = None,
        recipient: Optional[str] = None,
        expected_sender: Optional[str] = None,
        accept_unprotected_responses: bool = False,
        max_time_skew: Optional[int] = 600,
        implicit_confirm: bool = False,
        pvno: int = 2,
        total_timeout: Optional[int] = None,
        extra_certs: Optional[CertificatesLike] = None,
        kem_key: Optional[KemPrivateKey] = None,
        kem_ciphertext: Optional[Iterable[InfoTypeAndValue]] = None,
        transaction_id: Optional[bytes] = None,
        kem_shared_secret: Optional[bytes] = None,
        first_general_info: Optional[Iterable[InfoTypeAndValue]] = None,
    ) -> None:
        """KEM-based MAC protection: kem_key with kem_ciphertext (the infos of
        the genp answering a "kem_ciphertext" genm), and transaction_id (the
        genm's) to continue that transaction; or, toward a responder's KEM
        key, kem_shared_secret and first_general_info from kem_encapsulate_to."""
    @property
    def protection(self) -> str:
        """"mac", "signature" or "none"."""
    @property
    def implicit_confirm(self) -> bool: ...
    @property
    def pvno(self) -> int: ...

Extension = Tuple[str, bool, bytes]

class ClientTransaction:
    """One CMP transaction, end-entity side (sans-IO).

    Enrollment ``pop``: "signature" (``key`` signs), "ra_verified", "none",
    "encrypted_cert" (``key`` is a KemPrivateKey: the certificate comes
    back encrypted to it, RFC 9810 section 5.2.8.3) or
    "challenge_response" (``key`` is a KemPrivateKey: the CA's popdecc
    challenge is decrypted and answered in a popdecr first).

    ``archive_key=True`` (ir, cr, kur, ccr) archives ``key`` (a PrivateKey)
    at the CA with the request (pkiArchiveOptions, RFC 4211 section 6.4),
    encrypted under the MAC secret of ``config``, or for ``archive_cert``
    (the CA's certificate: key transport to RSA, key agreement with EC);
    a krr recovers it.
    """

    @staticmethod
    def ir(
        config: ClientConfig,
        *,
        key: Optional[KeyLike] = None,
        subject: Optional[str] = None,
        extensions: Optional[Iterable[Extension]] = None,
        pop: str = "signature",
        public_key: Optional[bytes] = None,
        cert_req_id: int = 0,
        archive_key: bool = False,
        archive_cert: Optional[CertificateLike] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction: ...
    @staticmethod
    def cr(
        config: ClientConfig,
        *,
        key: Optional[KeyLike] = None,
        subject: Optional[str] = None,
        extensions: Optional[Iterable[Extension]] = None,
        pop: str = "signature",
        public_key: Optional[bytes] = None,
        cert_req_id: int = 0,
        archive_key: bool = False,
        archive_cert: Optional[CertificateLike] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction: ...
    @staticmethod
    def ccr(
        config: ClientConfig,
        *,
        key: Optional[KeyLike] = None,
        subject: Optional[str] = None,
        extensions: Optional[Iterable[Extension]] = None,
        pop: str = "signature",
        public_key: Optional[bytes] = None,
        cert_req_id: int = 0,
        archive_key: bool = False,
        archive_cert: Optional[CertificateLike] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction:
        """Cross-certification request: a CA asks another CA to certify its key."""
    @staticmethod
    def central_keygen(
        config: ClientConfig,
        opener: EnvelopeKey,
        *,
        kind: str = "ir",
        subject: Optional[str] = None,
        key_algorithm: Optional[str] = None,
        extensions: Optional[Iterable[Extension]] = None,
        old_cert: Optional[CertificateLike] = None,
        cert_req_id: int = 0,
        now: Optional[float] = None,
    ) -> ClientTransaction:
        """Enrollment (ir/cr/kur/ccr) with a key the PKI generates; the key
        arrives in CertificateIssued.private_key (PKCS#8 DER)."""
    @staticmethod
    def krr(
        config: ClientConfig,
        opener: EnvelopeKey,
        *,
        subject: Optional[str] = None,
        new_key: Optional[KeyLike] = None,
        old_cert: Optional[CertificateLike] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction:
        """Key recovery request; the answer is KeysRecovered."""
    @staticmethod
    def kur(
        config: ClientConfig,
        *,
        key: Optional[KeyLike] = None,
        old_cert: CertificateLike,
        subject: Optional[str] = None,
        extensions: Optional[Iterable[Extension]] = None,
        pop: str = "signature",
        public_key: Optional[bytes] = None,
        cert_req_id: int = 0,
        archive_key: bool = False,
        archive_cert: Optional[CertificateLike] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction: ...
    @staticmethod
    def p10cr(config: ClientConfig, csr: Any, *, now: Optional[float] = None) -> ClientTransaction: ...
    @staticmethod
    def revoke(
        config: ClientConfig,
        cert: CertificateLike,
        *,
        reason: Optional[int] = None,
        now: Optional[float] = None,
    ) -> ClientTransaction: ...
    @staticmethod
    def genm(
        config: ClientConfig,
        infos: Optional[Iterable[Union[str, InfoTypeAndValue]]] = None,
        *,
        now: Optional[float] = None,
    ) -> ClientTransaction: ...
    def request(self) -> Optional[bytes]:
        """The next message to send, or None."""
    def handle_response(self, data: BytesLike, now: Optional[float] = None) -> Step: ...
    def confirm(
        self,
        accept: bool = True,
        *,
        fail_info: Optional[List[str]] = None,
        status_string: Optional[str] = None,
        now: Optional[float] = None,
    ) -> Step: ...
    def poll_timeout(self) -> Optional[float]: ...
    def handle_timeout(self, now: Optional[float] = None) -> None: ...
    @property
    def transaction_id(self) -> bytes: ...
    @property
    def kind(self) -> str:
        """"ir", "cr", "kur", "p10cr", "rr", "genm" or "krr"."""
    @property
    def is_finished(self) -> bool: ...
    @property
    def is_completed(self) -> bool: ...

@final
class Continue:
    @property
    def kind(self) -> str: ...

@final
class Waiting:
    @property
    def kind(self) -> str: ...
    @property
    def until(self) -> float: ...

@final
class CertificateIssued:
    @property
    def kind(self) -> str: ...
    @property
    def certificate(self) -> bytes: ...
    @property
    def chain(self) -> List[bytes]: ...
    @property
    def ca_pubs(self) -> List[bytes]: ...
    @property
    def extra_certs(self) -> List[bytes]: ...
    @property
    def implicit_confirm_granted(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def status_string(self) -> List[str]: ...
    @property
    def private_key(self) -> Optional[bytes]:
        """Central key generation: the delivered key, PKCS#8 DER."""

@final
class Revoked:
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def fail_info(self) -> List[str]: ...
    @property
    def status_string(self) -> List[str]: ...

@final
class GeneralResponse:
    @property
    def kind(self) -> str: ...
    @property
    def infos(self) -> List[InfoTypeAndValue]: ...
    @property
    def ca_certs(self) -> List[bytes]: ...

@final
class KeysRecovered:
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def status_string(self) -> List[str]: ...
    @property
    def new_sig_cert(self) -> Optional[bytes]: ...
    @property
    def ca_certs(self) -> List[bytes]: ...
    @property
    def keys(self) -> List[Tuple[bytes, bytes]]:
        """(certificate DER, private key PKCS#8 DER) of each recovered key."""

@final
class Completed:
    @property
    def kind(self) -> str: ...

@final
class ResponderConfig:
    def __init__(
        self,
        *,
        secrets: Optional[Dict[BytesLike, BytesLike]] = None,
        client_trust: Optional[CertificatesLike] = None,
        untrusted: Optional[CertificatesLike] = None,
        signer_key: Optional[KeyLike] = None,
        signer_cert: Optional[CertificateLike] = None,
        signer_chain: Optional[CertificatesLike] = None,
        name: Optional[str] = None,
        grant_implicit_confirm: bool = False,
        max_time_skew: Optional[int] = 600,
        transaction_lifetime: int = 600,
        confirm_wait_time: Optional[int] = None,
        accept_unprotected: bool = False,
        authorized_ras: Optional[CertificatesLike] = None,
        extra_certs: Optional[CertificatesLike] = None,
        ca_pubs: Optional[CertificatesLike] = None,
        max_records: int = 10000,
        kem_key: Optional[KemPrivateKey] = None,
    ) -> None: ...

@final
class Responder:
    def __init__(self, config: ResponderConfig) -> None: ...
    def handle_request(
        self, data: BytesLike, now: Optional[float] = None
    ) -> Union[Reply, PendingRequest]: ...
    def handle_request_with(
        self,
        data: BytesLike,
        decide: Callable[[PendingRequest], Reply],
        now: Optional[float] = None,
    ) -> Reply: ...
    def sweep(self, now: Optional[float] = None) -> int: ...

@final
class PendingRequest:
    @property
    def kind(self) -> str: ...
    @property
    def transaction_id(self) -> bytes: ...
    @property
    def polls(self) -> int: ...
    @property
    def message(self) -> Message: ...
    @property
    def subject(self) -> Optional[str]: ...
    @property
    def public_key(self) -> Optional[bytes]: ...
    @property
    def extensions(self) -> List[Extension]: ...
    @property
    def signer_certificate(self) -> Optional[bytes]: ...
    @property
    def revocation(self) -> Optional[Tuple[Optional[str], Optional[bytes], Optional[int]]]: ...
    @property
    def general_message(self) -> List[InfoTypeAndValue]: ...
    @property
    def implicit_confirm_requested(self) -> bool: ...
    @property
    def decided(self) -> bool: ...
    def issue(
        self,
        cert: CertificateLike,
        *,
        ca_pubs: Optional[CertificatesLike] = None,
        now: Optional[float] = None,
    ) -> Reply: ...
    def reject(
        self,
        fail_info: Optional[List[str]] = None,
        status_string: Optional[str] = None,
        *,
        status: str = "rejection",
        now: Optional[float] = None,
    ) -> Reply: ...
    def wait(self, check_after: int = 0, *, now: Optional[float] = None) -> Reply: ...
    def revoke(self, *, now: Optional[float] = None) -> Reply: ...
    def respond_genp(
        self, infos: Optional[Iterable[InfoTypeAndValue]] = None, *, now: Optional[float] = None
    ) -> Reply: ...
    @property
    def mac_secret(self) -> Optional[bytes]:
        """The shared secret a MAC-protected request was verified with."""
    def archived_key(self, openers: List[EnvelopeKey]) -> Optional[bytes]:
        """The key the requester archives (pkiArchiveOptions), PKCS#8 DER,
        opened with the first opener it is addressed to and checked against
        the requested public key; None when nothing is archived. Raises
        ProtocolError CMP_KEY_NOT_FOR_US / CMP_KEY_DECRYPT_FAILED /
        CMP_KEY_MISMATCH."""
    @property
    def central_keygen_requested(self) -> bool: ...
    def generate_key(self, default_algorithm: str = "ec:P-256") -> Tuple[bytes, bytes]:
        """(private key PKCS#8 DER, SubjectPublicKeyInfo DER)."""
    def issue_with_key(
        self,
        cert: CertificateLike,
        private_key: KeyLike,
        *,
        kga_key: KeyLike,
        kga_cert: CertificateLike,
        kga_chain: Optional[CertificatesLike] = None,
        ca_pubs: Optional[CertificatesLike] = None,
        now: Optional[float] = None,
    ) -> Reply: ...
    def recover_keys(
        self,
        keys: Iterable[Tuple[CertificateLike, KeyLike]],
        *,
        kga_key: KeyLike,
        kga_cert: CertificateLike,
        kga_chain: Optional[CertificatesLike] = None,
        new_sig_cert: Optional[CertificateLike] = None,
        ca_certs: Optional[CertificatesLike] = None,
        now: Optional[float] = None,
    ) -> Reply: ...

@final
class Reply:
    @property
    def der(self) -> bytes: ...
    def __bytes__(self) -> bytes: ...
    @property
    def body(self) -> str: ...
    @property
    def transaction_id(self) -> bytes: ...
    @property
    def error(self) -> Optional[CmpError]: ...
    @property
    def event(self) -> Optional[ResponderEvent]: ...
    @property
    def inner(self) -> List[Reply]: ...
    def message(self) -> Message: ...

@final
class ResponderEvent:
    @property
    def kind(self) -> str:
        """"confirmed", "confirmation_rejected", "implicitly_confirmed" or "client_error"."""
    @property
    def certificate(self) -> Optional[bytes]: ...
    @property
    def status(self) -> Optional[str]: ...
    @property
    def fail_info(self) -> List[str]: ...
    @property
    def status_string(self) -> List[str]: ...
    @property
    def error_code(self) -> Optional[int]: ...
    @property
    def error_details(self) -> List[str]: ...

@final
class FakeCa:
    def __init__(
        self,
        *,
        name: str = "Test",
        key_algorithm: str = "ec:P-256",
        ca_key: Optional[KeyLike] = None,
        ca_cert: Optional[CertificateLike] = None,
        ca_chain: Optional[CertificatesLike] = None,
        secrets: Optional[Dict[BytesLike, BytesLike]] = None,
        client_trust: Optional[CertificatesLike] = None,
        signer_key: Optional[KeyLike] = None,
        signer_cert: Optional[CertificateLike] = None,
        grant_implicit_confirm: bool = False,
        accept_unprotected: bool = False,
        max_time_skew: Optional[int] = 600,
        confirm_wait_time: Optional[int] = None,
        wait_polls: int = 0,
        check_after: int = 0,
        reject: Optional[List[str]] = None,
        reject_text: Optional[str] = None,
        decide: Optional[Callable[[PendingRequest], Optional[Reply]]] = None,
        now: Optional[float] = None,
    ) -> None: ...
    def handle_request(self, data: BytesLike, now: Optional[float] = None) -> Reply: ...
    def __call__(self, data: BytesLike) -> bytes: ...
    @property
    def root(self) -> bytes: ...
    @property
    def ca_certificate(self) -> bytes: ...
    @property
    def chain(self) -> List[bytes]: ...
    @property
    def signer_certificate(self) -> Optional[bytes]: ...
    @property
    def issued(self) -> List[bytes]: ...
    def crl(self, now: Optional[float] = None) -> bytes:
        """This CA's CRL, DER."""
    @property
    def archived_keys(self) -> int:
        """How many keys are archived (centrally generated or archived by requesters)."""
    def archived_keys_of(self, subject: str) -> List[Tuple[bytes, bytes]]:
        """The archived (certificate DER, private key PKCS#8 DER) of ``subject``, oldest first."""
    def is_revoked(self, cert: CertificateLike) -> bool: ...
    def issue_certificate(
        self,
        subject: str,
        public_key: Union[PrivateKey, bytes],
        *,
        extensions: Optional[Iterable[Extension]] = None,
        now: Optional[float] = None,
    ) -> bytes: ...

@final
class Message:
    @staticmethod
    def parse(data: BytesLike) -> Message: ...
    @staticmethod
    def build(body: bytes, *, now: Optional[float] = None, **header: Any) -> Message: ...
    def modified(
        self,
        *,
        pvno: int = ...,
        sender: str = ...,
        recipient: str = ...,
        message_time: Optional[float] = ...,
        protection_alg: Optional[str] = ...,
        protection_alg_der: Optional[bytes] = ...,
        sender_kid: Optional[bytes] = ...,
        recip_kid: Optional[bytes] = ...,
        transaction_id: Optional[bytes] = ...,
        sender_nonce: Optional[bytes] = ...,
        recip_nonce: Optional[bytes] = ...,
        free_text: Optional[List[str]] = ...,
        general_info: Optional[List[InfoTypeAndValue]] = ...,
        implicit_confirm: bool = ...,
        body: bytes = ...,
        extra_certs: Optional[CertificatesLike] = ...,
        protection: Optional[bytes] = ...,
    ) -> Message: ...
    def protect_mac(self, reference: BytesLike, secret: BytesLike, *, pbmac1: bool = False) -> Message: ...
    def protect_signature(
        self, key: KeyLike, cert: CertificateLike, chain: Optional[CertificatesLike] = None
    ) -> Message: ...
    def without_protection(self) -> Message: ...
    def corrupt_protection(self) -> Message: ...
    def verify_mac(self, secret: BytesLike) -> None: ...
    def verify_signature(self, cert: Optional[CertificateLike] = None) -> None: ...
    def encode(self) -> builtins.bytes: ...
    def reencode(self) -> builtins.bytes: ...
    def __bytes__(self) -> builtins.bytes: ...
    def describe(self) -> str: ...
    @property
    def pvno(self) -> int: ...
    @property
    def sender(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def message_time(self) -> Optional[float]: ...
    @property
    def protection_alg(self) -> Optional[str]: ...
    @property
    def protection_alg_name(self) -> Optional[str]: ...
    @property
    def protection_kind(self) -> str:
        """"mac", "signature", "none" or "invalid"."""
    @property
    def sender_kid(self) -> Optional[builtins.bytes]: ...
    @property
    def recip_kid(self) -> Optional[builtins.bytes]: ...
    @property
    def transaction_id(self) -> Optional[builtins.bytes]: ...
    @property
    def sender_nonce(self) -> Optional[builtins.bytes]: ...
    @property
    def recip_nonce(self) -> Optional[builtins.bytes]: ...
    @property
    def free_text(self) -> List[str]: ...
    @property
    def general_info(self) -> List[InfoTypeAndValue]: ...
    @property
    def implicit_confirm(self) -> bool: ...
    @property
    def body_type(self) -> str: ...
    @property
    def body_tag(self) -> int: ...
    @property
    def status(self) -> Optional[str]: ...
    @property
    def fail_info(self) -> List[str]: ...
    @property
    def status_string(self) -> List[str]: ...
    @property
    def error_code(self) -> Optional[int]: ...
    @property
    def error_details(self) -> List[str]: ...
    @property
    def cert_req_id(self) -> Optional[int]: ...
    @property
    def check_after(self) -> Optional[int]: ...
    @property
    def certificates(self) -> List[builtins.bytes]: ...
    @property
    def ca_pubs(self) -> List[builtins.bytes]: ...
    @property
    def infos(self) -> List[InfoTypeAndValue]: ...
    @property
    def nested(self) -> List[Message]: ...
    @property
    def protection(self) -> Optional[builtins.bytes]: ...
    @property
    def extra_certs(self) -> List[builtins.bytes]: ...
    @property
    def header_der(self) -> builtins.bytes: ...
    @property
    def body_der(self) -> builtins.bytes: ...
    @property
    def protected_part(self) -> builtins.bytes: ...
