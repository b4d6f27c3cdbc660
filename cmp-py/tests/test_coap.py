"""CoAP transfer (RFC 9482) and block-wise framing (RFC 7959): a real
PKIMessage split and reassembled, and every framing error by its code."""

from __future__ import annotations

import pytest

from cmp_protocol import (
    COAP_CONTENT_FORMAT,
    ClientConfig,
    ClientTransaction,
    CoapBlock,
    CoapError,
    CoapReassembler,
    FakeCa,
    Message,
    PrivateKey,
    coap_block_size_for_mtu,
    coap_split,
    coap_uri_path,
)

from conftest import REF, SECRET


def ir_bytes() -> bytes:
    tx = ClientTransaction.ir(
        ClientConfig(reference=REF, secret=SECRET), key=PrivateKey.generate(), subject="CN=CoAP"
    )
    request = tx.request()
    assert request is not None
    return request


def test_content_format_and_uri_path() -> None:
    assert COAP_CONTENT_FORMAT == 259
    assert coap_uri_path() == [".well-known", "cmp"]
    assert coap_uri_path("ca1", "ir") == [".well-known", "cmp", "p", "ca1", "ir"]


@pytest.mark.parametrize("size", [16, 64, 256, 1024])
def test_a_message_split_and_reassembled_through_coap_blocks(size: int) -> None:
    body = ir_bytes()
    blocks = coap_split(body, size)
    assert len(blocks) == -(-len(body) // size)
    assert all(len(p) == size for _, p in blocks[:-1]) and 0 < len(blocks[-1][1]) <= size
    assert [b.more for b, _ in blocks] == [True] * (len(blocks) - 1) + [False]
    r = CoapReassembler()
    out: object = None
    for i, (block, payload) in enumerate(blocks):
        # the option value travels as bytes
        wire = CoapBlock.decode(block.encode())
        assert wire == block and wire.offset == i * size
        out = r.push(wire, payload)
        if i + 1 < len(blocks):
            assert isinstance(out, CoapBlock) and out.num == i + 1
    assert out == body
    # the reassembled body is the message: a FakeCa answers it
    ca = FakeCa(secrets={REF: SECRET})
    assert Message.parse(ca(out)).body_type == "ip"


def test_block_option_encoding() -> None:
    assert CoapBlock(0, False, 16).encode() == b""
    assert CoapBlock(0, True, 1024).encode() == bytes([0x0E])
    assert CoapBlock(1, False, 1024).encode() == bytes([0x16])
    b = CoapBlock.decode(bytes([0x01, 0x2D]))
    assert (b.num, b.more, b.size, b.szx) == (18, True, 512, 5)
    assert coap_split(b"", 16)[0][1] == b""


def test_block_size_for_mtu() -> None:
    assert coap_block_size_for_mtu(1280, 100) == 1024
    assert coap_block_size_for_mtu(600, 100) == 256
    assert coap_block_size_for_mtu(116, 100) == 16


def coap_error(code: int, name: str, e: pytest.ExceptionInfo) -> None:
    assert isinstance(e.value, CoapError)
    assert (e.value.code, e.value.name) == (code, name)


def test_every_framing_error_has_its_code() -> None:
    with pytest.raises(CoapError) as e:
        CoapBlock(0, False, 2048)  # SZX 7
    coap_error(700, "CMP_COAP_RESERVED_BLOCK_SIZE", e)
    with pytest.raises(CoapError) as e:
        CoapBlock.decode(b"\x00\x00\x00\x08")
    coap_error(701, "CMP_COAP_BLOCK_OPTION_TOO_LONG", e)
    with pytest.raises(CoapError) as e:
        CoapBlock(1 << 20, False, 16).encode()
    coap_error(702, "CMP_COAP_BLOCK_NUMBER_TOO_LARGE", e)
    with pytest.raises(CoapError) as e:
        coap_block_size_for_mtu(100, 90)
    coap_error(703, "CMP_COAP_MTU_TOO_SMALL", e)
    assert e.value.kind == "local"

    r = CoapReassembler()
    with pytest.raises(CoapError) as e:
        r.push(CoapBlock(1, True, 16), bytes(16))
    coap_error(704, "CMP_COAP_BLOCK_OUT_OF_ORDER", e)
    assert e.value.response_code == 0x88  # 4.08 Request Entity Incomplete
    with pytest.raises(CoapError) as e:
        r.push(CoapBlock(0, True, 32), bytes(16))
    coap_error(705, "CMP_COAP_WRONG_BLOCK_LENGTH", e)
    # the state survives: the right block still fits
    assert isinstance(r.push(CoapBlock(0, True, 32), bytes(32)), CoapBlock)
    with pytest.raises(CoapError) as e:
        r.push(CoapBlock(1, True, 64), bytes(64))
    coap_error(706, "CMP_COAP_BLOCK_SIZE_INCREASED", e)
    assert r.push(CoapBlock(2, False, 16), b"end") == bytes(32) + b"end"
    with pytest.raises(CoapError) as e:
        r.push(CoapBlock(3, False, 16), b"x")
    coap_error(708, "CMP_COAP_ALREADY_COMPLETE", e)

    small = CoapReassembler(max_total=20)
    small.push(CoapBlock(0, True, 16), bytes(16))
    with pytest.raises(CoapError) as e:
        small.push(CoapBlock(1, True, 16), bytes(16))
    coap_error(707, "CMP_COAP_TOO_LARGE", e)
    assert e.value.response_code == 0x8D  # 4.13 Request Entity Too Large
    assert small.received == 16


def test_a_size_that_is_no_block_size_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        coap_split(b"x", 100)
