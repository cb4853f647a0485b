"""Any digit image -> the 28x28 input an MNIST model expects, keeping every stage for display.

MNIST was made by scaling each digit to fit a 20x20 box (keeping its aspect ratio, with
anti-aliasing) and placing it in 28x28 so that its centre of mass is at the centre. A drawing
only looks like MNIST to the model after the same steps, so canvas pixels, uploads and the CLI
all go through `preprocess`. Before the fit, the ink's slant is removed (`slant.upright`):
pens on a canvas lean further, either way, than MNIST's writers did.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cnnviz import slant

SIZE, BOX = 28, 20
MAX_SIDE = 1024  # larger images are reduced first: the result is 28x28 anyway
WORK_SIDE = 56  # ... and then halved while at least twice this: 2-4x the 28 px it becomes
INK_THRESHOLD = 0.2  # after normalising to [0, 1]: fainter pixels are paper texture or noise
MIN_CONTRAST = 0.1
MIN_INK_SIDE = 0.06  # the ink's bounding box must span this share of the image's longer side


@dataclass
class Result:
    status: str  # "ok", "blank" or "too_small"
    message: str = ""
    inverted: bool = False  # the input was dark ink on a light background
    stages: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def model_input(self) -> np.ndarray:
        """(28, 28, 1) float32 in [0, 1], as the training images."""
        return self.stages["input"][..., None]


def to_grey(image) -> np.ndarray:
    """PIL image or array (HxW, HxWx3, HxWx4; uint8, uint16 or float) -> float32 HxW in [0, 1].

    Transparent pixels are background: RGBA is composited over the colour that contrasts
    with its opaque pixels, so white ink on a transparent canvas and black ink on a
    transparent PNG both come out as ink on a plain background.
    """
    a = as_array(image)
    grey = grey8(a)
    return grey * np.float32(1 / 255) if grey is not None else _luminance(a)


def _luminance(a: np.ndarray) -> np.ndarray:
    """to_grey for anything but opaque 8-bit grey: luminance, composited over its background."""
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:  # often 10-12 bit sensor data: stretch to its own range
        a = a.astype(np.float32) / max(float(a.max()), 1.0)
    else:
        a = np.clip(a.astype(np.float32), 0.0, 1.0)
    if a.ndim == 2:
        return a
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected a greyscale, RGB or RGBA image, got an array of shape {a.shape}")
    alpha = a[..., 3] if a.shape[2] == 4 else None
    rgb = a[..., :3] if a.shape[2] >= 3 else a[..., :1]
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32) if rgb.shape[2] == 3 else rgb[..., 0]
    if alpha is None or alpha.min() >= 1.0:
        return lum
    opaque = alpha > 0.5
    background = 0.0 if opaque.any() and lum[opaque].mean() > 0.5 else 1.0
    return lum * alpha + background * (1.0 - alpha)


def as_array(image) -> np.ndarray:
    return pil_to_array(image) if isinstance(image, Image.Image) else np.asarray(image)


def grey8(a: np.ndarray) -> np.ndarray | None:
    """The single channel of an opaque 8-bit image whose pixels are all grey (a grey scan saved
    as RGB or RGBA), else None: such an image needs no luminance product or compositing."""
    if a.dtype != np.uint8:
        return None
    if a.ndim == 2:
        return a
    if a.ndim == 3 and a.shape[2] in (3, 4) and (a.shape[2] == 3 or a[..., 3].min() == 255) \
            and (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all():
        return a[..., 0]
    return None


def canvas_grey(rgba: np.ndarray | None) -> np.ndarray | None:
    """The drawing canvas's RGBA pixels as one 8-bit grey channel (None before it is drawn).
    It paints white ink on an opaque black background, so every pixel is grey and the red
    channel is the drawing: taken directly, the drawing skips a colour check of each pixel."""
    return None if rgba is None else rgba[..., 0]


def to_rgb(image) -> np.ndarray:
    """PIL image or array -> float32 HxWx3 in [0, 1]; transparent pixels become black."""
    a = as_array(image)
    scale = {np.dtype(np.uint8): 255.0,
             np.dtype(np.uint16): max(float(a.max(initial=0)), 1.0)}.get(a.dtype, 1.0)
    a = np.clip(a.astype(np.float32) / scale, 0.0, 1.0)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[2] in (2, 4):  # alpha last
        a = a[..., :-1] * a[..., -1:]
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a


def shrink(a: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (anti-aliased) so the longer side is at most max_side; channels kept."""
    h, w = a.shape[:2]
    if max(h, w) <= max_side:
        return a
    scale = max_side / max(h, w)
    size = max(1, round(w * scale)), max(1, round(h * scale))
    if a.ndim == 2:
        return resize(a, *size)
    return np.dstack([resize(a[..., c], *size) for c in range(a.shape[2])])


def pil_to_array(img: Image.Image) -> np.ndarray:
    """Decode any PIL mode (palette, CMYK, 16-bit, ...) to uint8/uint16 L, RGB or RGBA."""
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(img, dtype=np.float64).clip(0, 65535).astype(np.uint16)
    if img.mode == "P" and "transparency" in img.info or img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGB")
    return np.asarray(img)


def resize(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased resize (Pillow's Lanczos filter scales its support when downsampling)."""
    out = Image.fromarray(grey.astype(np.float32, copy=False)).resize((width, height),
                                                                      Image.LANCZOS)
    return np.clip(np.asarray(out), 0.0, 1.0)


def area_resize(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    """Each output pixel the mean of the input area it covers: two small matrix products, a
    fraction of the cost of a round trip through Pillow at these sizes."""
    return _area_weights(grey.shape[0], height) @ grey @ _area_weights(grey.shape[1], width).T


@functools.lru_cache(maxsize=64)
def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): output pixel o covers input span [o, o + 1) * n_in / n_out; each input
    pixel is weighted by the share of it inside that span."""
    step = n_in / n_out
    edges = np.arange(n_out + 1) * step
    pixels = np.arange(n_in)
    overlap = np.minimum(edges[1:, None], pixels + 1) - np.maximum(edges[:-1, None], pixels)
    return (np.clip(overlap, 0, None) / step).astype(np.float32)


def ink_on_black(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Make ink bright on a zero background; the background is the border's median."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    middle = border.size // 2
    background = np.partition(border, middle)[middle]  # the median, without np.median's checks
    inverted = bool(background > 0.5)
    ink = background - grey if inverted else grey - background
    peak = float(ink.max())
    if peak <= 0:
        return np.zeros_like(grey), inverted
    ink *= np.float32(1 / peak)  # now at most 1; the threshold also clears what is below 0
    ink[ink < INK_THRESHOLD] = 0.0
    return ink, inverted


def fit_box(crop: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio. Shrinking averages
    the area each pixel covers (anti-aliased, as MNIST's were); enlarging a small upload
    interpolates smoothly instead of repeating pixels."""
    h, w = crop.shape
    scale = box / max(h, w)
    size = max(1, round(w * scale)), max(1, round(h * scale))
    small = area_resize(crop, *size) if scale <= 1 else resize(crop, *size)
    peak = small.max()
    return small / peak if peak > 0 else small  # thin pen strokes should still reach full ink


def centre_by_mass(digit: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Place `digit` in a size x size field with its centre of mass at the field's centre."""
    h, w = digit.shape
    total = digit.sum()
    cy = digit.sum(axis=1) @ np.arange(h, dtype=np.float32) / total
    cx = digit.sum(axis=0) @ np.arange(w, dtype=np.float32) / total
    centre = (size - 1) / 2
    top, left = int(round(centre - cy)), int(round(centre - cx))
    out = np.zeros((size, size), np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, size), min(left + w, size)
    out[y0:y1, x0:x1] = digit[y0 - top:y1 - top, x0 - left:x1 - left]
    return out


def halve(grey: np.ndarray, min_side: int = WORK_SIDE) -> np.ndarray:
    """2x2 box-average while the image stays at least `min_side` px, as float32 in [0, 1]:
    the result is 28x28, so a 280x280 canvas has 25x more pixels than needed, and every
    later step costs per pixel. 8-bit grey is summed in integers and converted to float once,
    at the end."""
    steps = 0
    while min(grey.shape) // 2 ** steps >= 2 * min_side:
        steps += 1
    integer = grey.dtype == np.uint8
    # a 16x16 block of 8-bit pixels (4 steps) still fits 16 bits
    dtype = (np.uint16 if steps <= 4 else np.uint32) if integer else np.float32
    for _ in range(steps):
        grey = _sum2x2(grey, dtype)
    return grey * np.float32((1 / 255 if integer else 1) / 4 ** steps)


def _sum2x2(a: np.ndarray, dtype) -> np.ndarray:
    """Sums of 2x2 blocks (an odd last row/column dropped): four strided slices added in
    place, far faster than a reshaped sum."""
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    total = a[0:h:2, 0:w:2].astype(dtype)
    for dy, dx in ((1, 0), (0, 1), (1, 1)):
        total += a[dy:h:2, dx:w:2]
    return total


def working_grey(image) -> np.ndarray:
    """Float32 grey in [0, 1], at most MAX_SIDE, halved while at least twice WORK_SIDE."""
    a = as_array(image)
    grey = grey8(a)
    if grey is None:
        return halve(shrink(_luminance(a), MAX_SIDE))
    if max(grey.shape) <= MAX_SIDE:
        return halve(grey)  # the canvas: halved in integers
    return halve(shrink(grey * np.float32(1 / 255), MAX_SIDE))


def preprocess(image) -> Result:
    grey = working_grey(image)
    if grey.size == 0 or float(grey.max() - grey.min()) < MIN_CONTRAST:
        return Result("blank", "Nothing drawn yet: draw a digit from 0 to 9.")
    ink, inverted = ink_on_black(grey)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return Result("blank", "Nothing drawn yet: draw a digit from 0 to 9.")
    stages = {"raw": area_resize(ink, SIZE, SIZE)}  # for display only
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    span = max(crop.shape) / max(grey.shape)
    if span < MIN_INK_SIDE or max(crop.shape) < 4:
        return Result("too_small", "That is too small to read: draw the digit larger, "
                      "filling most of the box.", inverted, stages)
    stages["cropped"] = crop
    stages["upright"] = slant.upright(crop)
    stages["box"] = fit_box(stages["upright"])
    stages["input"] = centre_by_mass(stages["box"])
    return Result("ok", "", inverted, stages)


STAGE_TITLES = {
    "raw": "Raw, shrunk to 28×28",
    "cropped": "Cropped to the ink",
    "upright": "Slant removed",
    "box": "Fit into 20×20",
    "input": "Centred by mass: model input",
}


# --- image files ---------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 100_000_000  # 10,000 x 10,000 opens; a larger one is refused, as bombs are
MAX_DECODE_BYTES = 200 * 2**20  # what the decoded image may take in memory
# Bytes Pillow holds per decoded pixel: one for 1-bit, grey and palette images, two for
# 16-bit grey; four for the rest (32-bit I and F, and multi-band pixels, padded to 4 bytes).
DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


class ImageError(ValueError):
    """An upload that is not a usable image; the message says what to do."""


def check_decode_budget(img: Image.Image, name: str) -> None:
    """Refuse an opened, not yet decoded image whose pixels would exceed MAX_DECODE_BYTES."""
    per_pixel = DECODED_BYTES.get(img.mode, 4)
    need = img.width * img.height * per_pixel
    if need > MAX_DECODE_BYTES:
        raise ImageError(f"{name} would take {need / 2**20:,.0f} MB of memory to decode "
                         f"({img.width}x{img.height} pixels, {per_pixel} bytes each for "
                         f"{img.mode}); the limit is {MAX_DECODE_BYTES // 2**20} MB, so scale "
                         "it down or save it as greyscale.")


def open_image(raw: bytes, name: str = "the file") -> Image.Image:
    """Decode an uploaded file: first frame of animations, EXIF rotation applied."""
    import io
    import warnings

    from PIL import ImageOps, UnidentifiedImageError

    if not raw:
        raise ImageError(f"{name} is empty: choose a PNG or JPEG image of a digit.")
    if len(raw) > MAX_BYTES:
        raise ImageError(f"{name} is {len(raw) / 2**20:.0f} MB; the limit is "
                         f"{MAX_BYTES // 2**20} MB. Use a smaller image.")
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 Mpx; the size is checked here instead, before decoding
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(f"{name} is {img.width}x{img.height} pixels, too large to "
                                 f"open safely; scale it below {MAX_PIXELS // 10**6} megapixels.")
            img.seek(0)
            img.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG: decode at reduced size, far cheaper
            check_decode_budget(img, name)  # from the header (and draft size): nothing decoded yet
            img.load()
            img = ImageOps.exif_transpose(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} declares an enormous size (a decompression bomb); "
                         "it was not opened.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image Pillow can read: use PNG, JPEG, GIF, "
                         "BMP, WebP or TIFF.") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{name} is damaged or truncated ({err}); try saving it again.") from None
    return img
