"""The exception hierarchy of cmp_protocol.

Every error of the Rust core has a stable numeric ``code`` and a stable
``name`` (docs/errors.md); both are attributes of the exception. The class is
chosen by the code's range:

    CmpError
    ├── UsageError            100  CMP_USAGE
    ├── ConfigError           101  CMP_CONFIG
    ├── EncodeError           102  CMP_ENCODE
    ├── CryptoError           103  CMP_CRYPTO
    ├── TransactionTimeout    104  CMP_TIMEOUT
    ├── StoreError            105  CMP_STORE
    ├── DecodeError           200-202  (malformed, too large, nested too deep)
    ├── ProtectionError       300-306  (missing/bad protection, untrusted signer, ...)
    ├── ProtocolError         400-423  (pvno, transactionID, nonces, time, body, POP, delivered keys, ...)
    ├── PeerError             500-501  (the peer reported a failure)
    │   ├── Rejected                 500  CMP_PEER_ERROR: authenticated error
    │   │                                 message or rejection status
    │   └── UnauthenticatedErrorMessage 501  CMP_UNAUTHENTICATED_ERROR
    ├── AnnouncementError     600-616  (a CA announcement that does not validate)
    └── CoapError             700-708  (CoAP block-wise framing; ``response_code``)

``TransportError`` (an ``OSError``, not a ``CmpError``) is raised by the HTTP
helper for transport failures (connection, HTTP status, size), and its
subclass ``TransportTimeout`` (also a ``TimeoutError``) when the server does
not answer completely in time.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Type

__all__ = [
    "CmpError",
    "UsageError",
    "ConfigError",
    "EncodeError",
    "CryptoError",
    "TransactionTimeout",
    "StoreError",
    "DecodeError",
    "ProtectionError",
    "ProtocolError",
    "PeerError",
    "Rejected",
    "UnauthenticatedErrorMessage",
    "AnnouncementError",
    "CoapError",
    "TransportError",
    "TransportTimeout",
    "error_class",
]


class CmpError(Exception):
    """Base class of every error of the CMP core.

    Attributes: ``code`` (int, docs/errors.md), ``name`` (``"CMP_..."``),
    ``kind`` (``"local"``, ``"remote"`` or ``"peer"``), ``failure_bit`` (the
    PKIFailureInfo bit a responder answers this error with) and ``message``.
    """

    code: int
    name: str
    kind: str
    failure_bit: str
    message: str

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        name: str = "",
        kind: str = "local",
        failure_bit: str = "systemFailure",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name
        self.kind = kind
        self.failure_bit = failure_bit

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): {self.message}" if self.name else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, name={self.name!r}, message={self.message!r})"


class UsageError(CmpError):
    """The API was used in a way it does not allow (100)."""


class ConfigError(CmpError):
    """Our configuration names something unusable (101)."""


class EncodeError(CmpError):
    """A value could not be DER-encoded (102)."""


class CryptoError(CmpError):
    """The crypto provider failed (103)."""


class TransactionTimeout(CmpError):
    """The transaction deadline or confirmWaitTime passed (104)."""


class StoreError(CmpError):
    """The transaction store failed (105)."""


class DecodeError(CmpError):
    """Not a valid DER PKIMessage, too large, or nested too deep (200-202)."""


class ProtectionError(CmpError):
    """Protection missing, unsupported, not verifying, or signer not trusted (300-306)."""


class ProtocolError(CmpError):
    """The peer broke the protocol: header fields, body, POP, delivered keys, ... (400-423)."""


class PeerError(CmpError):
    """The peer reported a failure (500-501).

    Extra attributes: ``status`` (PKIStatus name, e.g. ``"rejection"``),
    ``fail_info`` (list of PKIFailureInfo bit names), ``status_string``
    (list of texts), ``error_code`` and ``error_details`` (of an error
    message, else None / []), ``body`` (the body it came in: ``"error"``,
    ``"ip"``, ``"rp"``, ...).
    """

    status: str
    fail_info: List[str]
    status_string: List[str]
    error_code: Optional[int]
    error_details: List[str]
    body: str

    def __init__(
        self,
        message: str,
        *,
        status: str = "rejection",
        fail_info: Optional[List[str]] = None,
        status_string: Optional[List[str]] = None,
        error_code: Optional[int] = None,
        error_details: Optional[List[str]] = None,
        body: str = "error",
        **kw: object,
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.status = status
        self.fail_info = list(fail_info or [])
        self.status_string = list(status_string or [])
        self.error_code = error_code
        self.error_details = list(error_details or [])
        self.body = body


class Rejected(PeerError):
    """An authenticated error message or a rejection status (500)."""


class UnauthenticatedErrorMessage(PeerError):
    """An error message whose protection is missing or does not verify (501):
    reported, but not to be trusted as coming from the server."""


class AnnouncementError(CmpError):
    """A CA announcement (ckuann, cann, rann, crlann) that does not validate
    (600-616). A failure of the message itself (decoding, protection) is
    raised as the core error (DecodeError, ProtectionError, ...) instead."""


class CoapError(CmpError):
    """CoAP block-wise framing failed (700-708). ``response_code`` is the
    CoAP response code to answer with (e.g. ``0x88``, 4.08)."""

    response_code: int = 0x80


class TransportError(OSError):
    """The HTTP exchange failed (connection, timeout, HTTP status, content)."""


class TransportTimeout(TransportError, TimeoutError):
    """The server did not answer completely within the exchange's timeout
    (silent, or trickling its answer)."""


_EXACT: Dict[int, Type[CmpError]] = {
    100: UsageError,
    101: ConfigError,
    102: EncodeError,
    103: CryptoError,
    104: TransactionTimeout,
    105: StoreError,
    500: Rejected,
    501: UnauthenticatedErrorMessage,
}


def error_class(code: int) -> Type[CmpError]:
    """The exception class for a native error code."""
    if code in _EXACT:
        return _EXACT[code]
    if 200 <= code < 300:
        return DecodeError
    if 300 <= code < 400:
        return ProtectionError
    if 400 <= code < 500:
        return ProtocolError
    if 500 <= code < 600:
        return PeerError
    if 600 <= code < 700:
        return AnnouncementError
    if 700 <= code < 800:
        return CoapError
    return CmpError


def _from_native(
    code: int,
    name: str,
    message: str,
    kind: str,
    failure_bit: str,
    peer: Optional[dict],
) -> CmpError:
    """Called by the extension module: the one conversion of a Rust error."""
    cls = error_class(code)
    common = dict(code=code, name=name, kind=kind, failure_bit=failure_bit)
    if issubclass(cls, PeerError):
        return cls(message, **(peer or {}), **common)  # type: ignore[arg-type]
    return cls(message, **common)  # type: ignore[arg-type]
