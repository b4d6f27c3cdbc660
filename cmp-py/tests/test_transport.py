"""http_sender against hostile or broken loopback servers: silent,
trickling one byte per second, and sending endless bodies. The sender gives
up at its deadline with TransportTimeout, or at the body cap with
TransportError, and never hangs or grows without bound."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, Iterator, Tuple

import pytest

from cmp_protocol import TransportError, TransportTimeout, http_sender

Behaviour = Callable[[socket.socket], None]


def _serve(behaviour: Behaviour) -> Tuple[str, threading.Thread, socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def run() -> None:
        listener.settimeout(30)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            seen = b""
            while b"\r\n\r\n" not in seen:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                seen += chunk
            try:
                behaviour(conn)
            except OSError:
                pass  # the client went away: what it should do

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}/pkix/", thread, listener


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], str]]:
    started = []

    def start(behaviour: Behaviour) -> str:
        url, thread, listener = _serve(behaviour)
        started.append((thread, listener))
        return url

    yield start
    for thread, listener in started:
        thread.join(timeout=40)
        listener.close()


def _until_closed(conn: socket.socket) -> None:
    while conn.recv(1024):
        pass


def _trickle(conn: socket.socket) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 100\r\n\r\n"
    for b in head + b"x" * 100:
        conn.sendall(bytes([b]))
        time.sleep(1)


def _endless(head: bytes) -> Behaviour:
    def behave(conn: socket.socket) -> None:
        conn.sendall(head)
        chunk = b"\x30" * 65536
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            conn.sendall(chunk)

    return behave


def _timed(send: Callable[[bytes], bytes]) -> Tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        send(b"\x30\x00")
    return info.value, time.monotonic() - started


def test_silent_server_times_out_at_the_deadline(serve: Callable[[Behaviour], str]) -> None:
    error, elapsed = _timed(http_sender(serve(_until_closed), timeout=1.5))
    assert isinstance(error, TransportTimeout) and isinstance(error, TimeoutError)
    assert 1.4 <= elapsed < 4, elapsed


def test_trickling_server_cannot_stretch_the_deadline(serve: Callable[[Behaviour], str]) -> None:
    # every read gets a byte within the socket timeout; the deadline still holds
    error, elapsed = _timed(http_sender(serve(_trickle), timeout=3))
    assert isinstance(error, TransportTimeout), error
    assert 2.9 <= elapsed < 6, elapsed


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 99999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7fffffff\r\n",
    ],
    ids=["until-eof", "huge-content-length", "chunked"],
)
def test_endless_body_stops_at_the_cap(serve: Callable[[Behaviour], str], head: bytes) -> None:
    error, elapsed = _timed(http_sender(serve(_endless(head)), timeout=20, max_body=1 << 20))
    assert not isinstance(error, TransportTimeout), error
    assert "larger than" in str(error), error
    assert elapsed < 10, elapsed


def test_a_normal_answer_still_arrives(serve: Callable[[Behaviour], str]) -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 4\r\n\r\npong"
        )

    assert http_sender(serve(answer), timeout=5)(b"ping") == b"pong"
