import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from cnnviz import preprocess
from bench.drawn_digits import redraw


def stroke(h=280, w=280, dark_on_light=False):
    """A slanted bar with a hook: an asymmetric shape whose centre of mass is off its box."""
    img = np.zeros((h, w), np.float32)
    img[int(h * .2):int(h * .8), int(w * .55):int(w * .62)] = 1.0
    img[int(h * .2):int(h * .27), int(w * .3):int(w * .62)] = 1.0
    return 1.0 - img if dark_on_light else img


def check_mnist_like(result):
    assert result.ok, result.message
    x = result.stages["input"]
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == pytest.approx(1.0)
    cy, cx = ndimage.center_of_mass(x)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    rows, cols = np.nonzero(x)
    assert np.ptp(rows) + 1 <= 20 and np.ptp(cols) + 1 <= 20
    assert max(np.ptp(rows), np.ptp(cols)) + 1 >= 19  # the longer side fills the box
    assert result.model_input.shape == (28, 28, 1)


@pytest.mark.parametrize("seed", range(5))
def test_drawn_digits_come_out_centred_in_a_20px_box(seed):
    from cnnviz import data

    rng = np.random.default_rng(seed)
    digit = data.load_sample("mnist").x_test[seed * 37, ..., 0]
    check_mnist_like(preprocess.preprocess(redraw(digit, rng)))


def test_polarity_is_detected_and_both_give_the_same_input():
    light = preprocess.preprocess(stroke())
    dark = preprocess.preprocess(stroke(dark_on_light=True))
    assert not light.inverted and dark.inverted
    np.testing.assert_allclose(light.stages["input"], dark.stages["input"], atol=1e-6)
    check_mnist_like(dark)


def test_rgba_canvas_and_transparent_png_match_greyscale():
    grey = stroke()
    u8 = (grey * 255).astype(np.uint8)
    # canvas with a black background: opaque everywhere
    canvas = np.dstack([u8, u8, u8, np.full_like(u8, 255)])
    # white ink on transparency, and black ink on transparency
    white_on_clear = np.dstack([np.full_like(u8, 255)] * 3 + [u8])
    black_on_clear = np.dstack([np.zeros_like(u8)] * 3 + [u8])
    want = preprocess.preprocess(grey).stages["input"]
    for rgba in (canvas, white_on_clear, black_on_clear):
        np.testing.assert_allclose(preprocess.preprocess(rgba).stages["input"], want, atol=1e-2)


def test_grey_canvas_fast_path_matches_the_float_path():
    from cnnviz import data

    u8 = redraw(data.load_sample("mnist").x_test[3, ..., 0], np.random.default_rng(3))
    assert u8.dtype == np.uint8 and u8.shape == (280, 280)
    canvas = np.dstack([u8, u8, u8, np.full_like(u8, 255)])
    assert preprocess.grey8(canvas) is not None
    assert preprocess.grey8(np.asfortranarray(canvas)) is not None  # strided: checked per channel
    # integer halving of the one channel == float halving of the luminance
    np.testing.assert_allclose(preprocess.working_grey(canvas),
                               preprocess.halve(preprocess.to_grey(canvas[..., :3] * 1.0 / 255)),
                               atol=1e-6)
    # the page reads the canvas's red channel: the same input as the full RGBA
    assert preprocess.canvas_grey(None) is None
    np.testing.assert_array_equal(preprocess.preprocess(preprocess.canvas_grey(canvas)).model_input,
                                  preprocess.preprocess(canvas).model_input)
    tinted, clear = canvas.copy(), canvas.copy()
    tinted[5, 7, 2] ^= 1  # one pixel not grey
    clear[9, 9, 3] = 254  # one pixel not opaque
    for a in (tinted, clear, canvas[..., :3].astype(np.uint16), canvas.astype(np.float32)):
        assert preprocess.grey8(a) is None


def test_faint_noise_is_removed():
    rng = np.random.default_rng(0)
    noisy = np.clip(stroke() + rng.uniform(0, 0.12, (280, 280)), 0, 1)
    clean = preprocess.preprocess(stroke()).stages["input"]
    np.testing.assert_allclose(preprocess.preprocess(noisy).stages["input"], clean, atol=0.1)


@pytest.mark.parametrize("image", [
    np.zeros((280, 280)), np.full((280, 280), 255, np.uint8), np.zeros((1, 1)),
    np.full((1, 1), 0.5), np.zeros((280, 280, 4), np.uint8),
], ids=["black", "white", "1x1 black", "1x1 grey", "transparent"])
def test_blank_images_give_no_input(image):
    result = preprocess.preprocess(image)
    assert result.status == "blank" and "draw a digit" in result.message
    assert not result.stages


def test_a_dot_is_too_small():
    img = np.zeros((280, 280), np.float32)
    img[140:146, 140:146] = 1.0
    result = preprocess.preprocess(img)
    assert result.status == "too_small" and "larger" in result.message


def test_huge_input_is_reduced_first():
    big = np.zeros((10_000, 10_000), np.uint8)
    big[2000:8000, 4500:5500] = 255
    result = preprocess.preprocess(big)
    check_mnist_like(result)
    assert max(result.stages["cropped"].shape) <= preprocess.MAX_SIDE


def test_uint16_and_float_inputs():
    g = stroke()
    want = preprocess.preprocess(g).stages["input"]
    np.testing.assert_allclose(preprocess.preprocess((g * 65535).astype(np.uint16)).stages["input"], want, atol=1e-3)
    np.testing.assert_allclose(preprocess.preprocess(g.astype(np.float64)).stages["input"], want, atol=1e-6)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_image_files_in_many_modes_decode_to_the_same_digit():
    base = Image.fromarray((stroke(120, 120) * 255).astype(np.uint8))
    want = preprocess.preprocess(np.asarray(base)).stages["input"]
    variants = {
        "png-L": encode(base, "PNG"),
        "jpeg-RGB": encode(base.convert("RGB"), "JPEG", quality=95),
        "tiff-CMYK": encode(base.convert("CMYK"), "TIFF"),
        "png-16bit": encode(Image.fromarray(np.asarray(base).astype(np.uint16) * 257), "PNG"),
        "png-12bit": encode(Image.fromarray(np.asarray(base).astype(np.uint16) * 16), "PNG"),
        "gif-animated": encode(base.convert("P"), "GIF", save_all=True,
                               append_images=[Image.new("P", base.size)]),
    }
    for name, raw in variants.items():
        arr = preprocess.pil_to_array(preprocess.open_image(raw, name))
        got = preprocess.preprocess(arr).stages["input"]
        assert np.abs(got - want).max() < 0.2, name


def test_palette_with_alpha_uses_transparency():
    img = Image.new("P", (60, 60), 0)
    img.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    img.paste(1, (25, 10, 35, 50))
    raw = encode(img, "PNG", transparency=0)  # white background is transparent
    arr = preprocess.pil_to_array(preprocess.open_image(raw, "p.png"))
    assert arr.shape[-1] == 4
    check_mnist_like(preprocess.preprocess(arr))


def test_exif_rotation_is_applied():
    img = Image.new("L", (80, 40), 0)
    img.paste(255, (5, 15, 75, 25))  # a horizontal bar
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    opened = preprocess.open_image(encode(img, "JPEG", exif=exif), "r.jpg")
    assert opened.size == (40, 80)


@pytest.mark.parametrize("raw, message", [
    (b"", "is empty"),
    (b"this is not an image", "not an image"),
    (encode(Image.new("L", (64, 64), 255), "PNG")[:60], "damaged or truncated"),
    (encode(Image.new("L", (64, 64), 255), "JPEG")[:200], "damaged or truncated"),
])
def test_bad_files_raise_clear_messages(raw, message):
    with pytest.raises(preprocess.ImageError, match=message):
        preprocess.open_image(raw, "upload")


def test_decompression_bomb_is_refused():
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")  # tiny file, 144 Mpx
    assert len(bomb) < 100_000
    with pytest.raises(preprocess.ImageError, match="too large|decompression bomb"):
        preprocess.open_image(bomb, "bomb.png")


def test_to_rgb_from_every_mode_matches_pillow():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    want = np.asarray(rgb, np.float32) / 255
    np.testing.assert_allclose(preprocess.to_rgb(rgb), want)
    np.testing.assert_allclose(preprocess.to_rgb(np.asarray(rgb)), want)
    grey = np.asarray(rgb.convert("L"))
    np.testing.assert_allclose(preprocess.to_rgb(grey), np.repeat(grey[..., None] / 255, 3, 2),
                               rtol=1e-6)
    cmyk = preprocess.open_image(encode(rgb.convert("CMYK"), "TIFF"), "c.tif")
    assert preprocess.to_rgb(cmyk).shape == (20, 30, 3)
    sixteen = np.full((4, 4), 4095, np.uint16)  # 12-bit data: stretched to its own range
    np.testing.assert_allclose(preprocess.to_rgb(sixteen), 1.0)
    rgba = np.dstack([np.full((3, 3, 3), 255, np.uint8), np.array([[0, 255, 128]] * 3, np.uint8)])
    np.testing.assert_allclose(preprocess.to_rgb(rgba)[0, :, 0], [0, 1, 128 / 255], rtol=1e-6)


@pytest.mark.parametrize("shape, side, want", [((300, 200), 150, (150, 100)),
                                               ((50, 40, 3), 64, (50, 40, 3)),
                                               ((2000, 1000, 3), 1024, (1024, 512, 3)),
                                               ((1, 5000), 100, (1, 100))])
def test_shrink_keeps_aspect_and_channels(shape, side, want):
    a = np.random.default_rng(0).random(shape).astype(np.float32)
    out = preprocess.shrink(a, side)
    assert out.shape == want
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert abs(out.mean() - a.mean()) < 0.05


def block_mean_reference(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging done the slow, obvious way: repeat every pixel so both sizes divide the
    image, then average equal blocks."""
    from math import lcm

    ry, rx = lcm(a.shape[0], height) // a.shape[0], lcm(a.shape[1], width) // a.shape[1]
    big = np.repeat(np.repeat(a, ry, axis=0), rx, axis=1)
    return big.reshape(height, big.shape[0] // height, width, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("shape, size", [((70, 70), (28, 28)), ((100, 37), (28, 28)),
                                         ((56, 56), (28, 28)), ((9, 13), (28, 20)),
                                         ((1, 1), (28, 28)), ((28, 28), (28, 28))])
def test_area_resize_is_the_mean_of_the_covered_area(shape, size):
    a = np.random.default_rng(0).random(shape).astype(np.float32)
    got = preprocess.area_resize(a, size[1], size[0])
    assert got.shape == size and got.dtype == np.float32
    np.testing.assert_allclose(got, block_mean_reference(a, *size), atol=1e-5)


def test_a_leaning_stroke_is_stood_upright_before_the_fit():
    """A bar leaning 30° fills the 20-px box's height as a bar about as wide as the pen,
    not a diagonal across the box; its slant, from scipy's moments, is about 0."""
    img = np.zeros((280, 280), np.uint8)
    for y in range(40, 240):
        x = int(140 + 0.58 * (140 - y))  # top to the right
        img[y, x - 10:x + 10] = 255
    result = preprocess.preprocess(img)
    x = result.stages["input"]
    cols = np.flatnonzero(x.max(axis=0) > 0.5)
    assert cols.size <= 5
    ys, xs = np.nonzero(x > 0.5)
    assert abs(np.cov(ys, xs)[0, 1] / np.var(ys)) < 0.05
    assert result.stages["cropped"].shape[1] > 2 * result.stages["upright"].shape[1]
