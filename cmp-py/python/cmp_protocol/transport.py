"""Running a whole transaction: over a caller-supplied ``send(bytes) -> bytes``
callable, or over plain HTTP with the standard library."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, Union

from ._native import (
    CertificateIssued,
    ClientTransaction,
    Completed,
    GeneralResponse,
    KeysRecovered,
    Revoked,
    Waiting,
)
from .errors import TransportError, TransportTimeout, UsageError

__all__ = [
    "TransactionResult",
    "run_transaction",
    "http_sender",
    "run_transaction_http",
    "CONTENT_TYPE",
    "MAX_RESPONSE_BODY",
]

CONTENT_TYPE = "application/pkixcmp"

Send = Callable[[bytes], bytes]
Confirm = Union[bool, Callable[[CertificateIssued], bool]]


@dataclass
class TransactionResult:
    """What happened in a transaction run to its end."""

    transaction_id: bytes
    #: every step object handle_response / confirm returned, in order
    steps: List[object] = field(default_factory=list)
    #: every (request, response) pair sent and received, in order
    exchanges: List[Tuple[bytes, bytes]] = field(default_factory=list)
    #: the issued certificate (DER) if one was issued and accepted
    certificate: Optional[bytes] = None
    #: the issued certificate (DER) whether or not it was accepted
    issued: Optional[CertificateIssued] = None
    chain: List[bytes] = field(default_factory=list)
    ca_pubs: List[bytes] = field(default_factory=list)
    extra_certs: List[bytes] = field(default_factory=list)
    implicit_confirm_granted: bool = False
    #: genm: the genp content as (oid, value_der_or_None) and the caCerts
    infos: List[Tuple[str, Optional[bytes]]] = field(default_factory=list)
    ca_certs: List[bytes] = field(default_factory=list)
    #: rr: whether the revocation was accepted
    revoked: bool = False
    #: how many times the server asked to wait
    polls: int = 0
    #: central key generation: the delivered private key (PKCS#8 DER)
    private_key: Optional[bytes] = None
    #: krr: what the key recovery response delivered
    recovered: Optional[KeysRecovered] = None

    @property
    def completed(self) -> bool:
        return any(isinstance(s, (Completed, KeysRecovered)) for s in self.steps) or self.revoked or bool(
            self.infos or self.ca_certs
        )


def _usage(message: str) -> UsageError:
    return UsageError(message, code=100, name="CMP_USAGE", kind="local")


def run_transaction(
    tx: ClientTransaction,
    send: Send,
    *,
    confirm: Confirm = True,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    max_messages: int = 32,
) -> TransactionResult:
    """Drive ``tx`` to its end: send each request with ``send``, hand each
    response to the transaction, wait (with ``sleep``) when the server asks
    to poll, and decide an issued certificate with ``confirm`` (True: accept,
    False: reject, or a callable taking the CertificateIssued step).

    Raises the CmpError of the first failure (e.g. Rejected).
    """
    result = TransactionResult(transaction_id=tx.transaction_id)
    while True:
        request = tx.request()
        if request is None:
            if tx.is_finished:
                return result
            due = tx.poll_timeout()
            if due is None:
                raise _usage("the transaction is stuck: nothing to send and no timer")
            delay = due - clock()
            if delay > 0:
                sleep(delay)
            tx.handle_timeout(now=max(clock(), due))
            continue
        if len(result.exchanges) >= max_messages:
            raise _usage(f"more than {max_messages} messages in one transaction")
        response = send(request)
        if not isinstance(response, (bytes, bytearray)):
            raise TypeError("send() must return bytes")
        response = bytes(response)
        result.exchanges.append((request, response))
        step = tx.handle_response(response, now=clock())
        result.steps.append(step)
        if isinstance(step, Waiting):
            result.polls += 1
        elif isinstance(step, CertificateIssued):
            result.issued = step
            result.chain = list(step.chain)
            result.ca_pubs = list(step.ca_pubs)
            result.extra_certs = list(step.extra_certs)
            result.implicit_confirm_granted = step.implicit_confirm_granted
            result.private_key = step.private_key
            accept = confirm(step) if callable(confirm) else bool(confirm)
            if accept:
                result.certificate = step.certificate
                result.steps.append(tx.confirm(True, now=clock()))
            else:
                result.steps.append(
                    tx.confirm(
                        False,
                        fail_info=["incorrectData"],
                        status_string="rejected by the caller",
                        now=clock(),
                    )
                )
        elif isinstance(step, GeneralResponse):
            result.infos = list(step.infos)
            result.ca_certs = list(step.ca_certs)
        elif isinstance(step, Revoked):
            result.revoked = True
        elif isinstance(step, KeysRecovered):
            result.recovered = step


#: The largest response body ``http_sender`` accepts (the CLI's cap).
MAX_RESPONSE_BODY = 4 * 1024 * 1024


def http_sender(
    url: str,
    *,
    timeout: float = 10.0,
    headers: Optional[Dict[str, str]] = None,
    max_body: int = MAX_RESPONSE_BODY,
) -> Send:
    """A ``send`` callable that POSTs each request to ``url`` (RFC 9811:
    Content-Type application/pkixcmp) and returns the response body.

    ``timeout`` bounds the whole exchange (connecting, sending, and reading
    the complete answer), not each socket operation: a server that trickles
    its answer cannot stretch it. A body larger than ``max_body`` bytes is
    refused. Raises TransportTimeout when the deadline passes, and
    TransportError for other failures (connection, non-200 answers, size).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _usage(f"not an http:// or https:// URL: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"

    def send(request: bytes) -> bytes:
        all_headers = {"Content-Type": CONTENT_TYPE, "Connection": "close"}
        all_headers.update(headers or {})
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection_class(parts.hostname, parts.port, timeout=timeout)
        expired = threading.Event()

        def expire() -> None:
            # wakes up a read blocked on a silent or trickling server
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("POST", path, body=request, headers=all_headers)
            rsp = conn.getresponse()
            if rsp.status != 200:
                raise TransportError(f"HTTP {rsp.status} from {url}")
            declared = rsp.getheader("Content-Length")
            if declared is not None and declared.strip().isdigit() and int(declared) > max_body:
                raise TransportError(f"response body from {url} larger than {max_body} bytes")
            body = bytearray()
            while True:
                chunk = rsp.read1(65536) if hasattr(rsp, "read1") else rsp.read(65536)
                if not chunk:
                    break
                body += chunk
                if len(body) > max_body:
                    raise TransportError(f"response body from {url} larger than {max_body} bytes")
            if expired.is_set():
                raise TransportTimeout(f"no complete answer from {url} within {timeout} s")
            return bytes(body)
        except TransportError:
            raise
        except (OSError, http.client.HTTPException) as e:
            if expired.is_set() or isinstance(e, socket.timeout):
                raise TransportTimeout(f"no complete answer from {url} within {timeout} s") from e
            raise TransportError(f"cannot reach {url}: {e}") from e
        finally:
            watchdog.cancel()
            conn.close()

    return send


def run_transaction_http(
    tx: ClientTransaction,
    url: str,
    *,
    timeout: float = 10.0,
    headers: Optional[Dict[str, str]] = None,
    **kwargs: object,
) -> TransactionResult:
    """``run_transaction`` over HTTP POST to ``url``."""
    return run_transaction(
        tx, http_sender(url, timeout=timeout, headers=headers), **kwargs  # type: ignore[arg-type]
    )
