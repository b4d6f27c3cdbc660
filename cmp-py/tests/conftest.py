"""Shared fixtures: paths to the shared vectors and the fixed PKI, and
OpenSSL's CMP mock server on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(os.environ.get("CMP_PY_ROOT") or Path(__file__).resolve().parents[2])
VECTORS = ROOT / "tests" / "vectors"
PKI = VECTORS / "pki"
MOCK_SERVER = ROOT / "tests" / "interop" / "mock-server.sh"

REF = b"1234"
SECRET = b"1234-5678"


def pki(name: str) -> bytes:
    return (PKI / name).read_bytes()


@pytest.fixture
def vectors() -> Path:
    return VECTORS


class MockServer:
    def __init__(self, extra: list) -> None:
        if shutil.which("openssl") is None:
            if os.environ.get("CMP_PY_REQUIRE_OPENSSL") == "1":
                pytest.fail("openssl is not installed")
            pytest.skip("openssl is not installed")
        env = dict(os.environ, MOCK_FOREGROUND="1", MOCK_LIFETIME="300")
        self.proc = subprocess.Popen(
            ["bash", str(MOCK_SERVER), str(PKI), "0", "mac", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.wait(timeout=10)
            raise RuntimeError(f"mock server did not start: {err}")
        self.pid = int(line[0])
        self.url = f"http://127.0.0.1:{int(line[1])}/pkix/"

    def stop(self) -> None:
        # the server process (started by the script we started), by its id
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def mock_server_factory() -> Iterator[Callable[..., MockServer]]:
    started: list = []

    def start(*extra: str) -> MockServer:
        s = MockServer(list(extra))
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def mock_server(mock_server_factory: Callable[..., MockServer]) -> MockServer:
    return mock_server_factory()
