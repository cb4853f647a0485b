"""open_image's decode budget: checked from the header, before any pixel is decoded, and
counting the bytes each pixel of the image's mode takes."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz import preprocess


def png_header(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A PNG that declares its size and stops there: a few dozen bytes for any size."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


GREY, RGB, RGBA = 0, 2, 6


@pytest.mark.parametrize("side, depth, colour, refusal", [
    # the same 7300x7300 pixels: fine in 8-bit or 16-bit grey, too much in colour
    (7300, 8, GREY, None),
    (7300, 16, GREY, None),
    (7300, 8, RGB, "203 MB of memory to decode (7300x7300 pixels, 4 bytes each for RGB)"),
    (7300, 8, RGBA, "203 MB of memory to decode (7300x7300 pixels, 4 bytes each for RGBA)"),
    (9000, 8, GREY, None),
    (9000, 16, GREY, None),  # 162 MB
    (10_000, 16, GREY, None),  # 191 MB: just inside
    (8000, 8, RGBA, "244 MB of memory to decode (8000x8000 pixels, 4 bytes each for RGBA)"),
    (11_000, 8, GREY, "too large to open safely"),  # over the pixel cap first
])
def test_a_declared_size_is_checked_before_decoding(side, depth, colour, refusal):
    raw = png_header(side, side, depth, colour)
    assert len(raw) < 100
    with pytest.raises(preprocess.ImageError) as err:
        preprocess.open_image(raw, "big.png")
    if refusal is None:  # passed the budget, then found to have no pixel data at all
        assert "damaged or truncated" in str(err.value)
    else:
        assert str(err.value).startswith("big.png ") and refusal in str(err.value)


def test_the_budget_message_is_one_sentence_with_what_to_do():
    with pytest.raises(preprocess.ImageError) as err:
        preprocess.open_image(png_header(8000, 8000, 8, RGBA), "photo.png")
    assert str(err.value) == (
        "photo.png would take 244 MB of memory to decode (8000x8000 pixels, 4 bytes each for "
        "RGBA); the limit is 200 MB, so scale it down or save it as greyscale.")


def encoded(mode: str, size=(100, 100)) -> bytes:
    if mode == "I;16":
        img = Image.fromarray(np.full(size[::-1], 300, np.uint16))
    else:
        img = Image.new(mode, size)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("mode, size, opens", [
    ("L", (100, 100), True),  # 10,000 bytes
    ("P", (100, 100), True),
    ("I;16", (100, 100), True),  # 20,000 bytes: exactly the budget
    ("I;16", (101, 100), False),
    ("LA", (100, 100), False),  # two bands, held as four bytes a pixel
    ("RGB", (100, 100), False),
    ("RGBA", (100, 100), False),
    ("RGBA", (70, 70), True),  # 19,600 bytes
])
def test_bytes_per_pixel_follow_the_mode(monkeypatch, mode, size, opens):
    monkeypatch.setattr(preprocess, "MAX_DECODE_BYTES", 20_000)
    raw = encoded(mode, size)
    if opens:
        assert preprocess.open_image(raw, "x.png").size == size
    else:
        with pytest.raises(preprocess.ImageError, match="MB of memory to decode"):
            preprocess.open_image(raw, "x.png")


def test_a_large_jpeg_is_budgeted_at_the_size_it_is_decoded_at(monkeypatch):
    """JPEGs decode at a reduced size (draft): the budget counts that, not the full size."""
    buf = io.BytesIO()
    Image.new("RGB", (2400, 2400), "white").save(buf, format="JPEG")
    monkeypatch.setattr(preprocess, "MAX_DECODE_BYTES", 2400 * 2400 * 4 - 1)
    img = preprocess.open_image(buf.getvalue(), "scan.jpg")
    assert max(img.size) < 2400
