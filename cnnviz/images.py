"""Arrays in [0, 1] to PNG files and bytes (exports from the Inside page and the CLI)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.files import atomic_path


def to_pil(image: np.ndarray, scale: int = 1) -> Image.Image:
    """(H, W), (H, W, 1) or (H, W, 3) in [0, 1] -> 8-bit image, enlarged without smoothing."""
    a = np.asarray(image, np.float32)
    a = a[..., 0] if a.ndim == 3 and a.shape[2] == 1 else a
    img = Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST) if scale > 1 else img


def write_png(image: np.ndarray, path, scale: int = 1) -> Path:
    with atomic_path(path) as tmp:
        to_pil(image, scale).save(tmp, format="PNG")
    return Path(path)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    to_pil(image, scale).save(buf, format="PNG")
    return buf.getvalue()


def tile(images: np.ndarray, cols: int, gap: int = 2) -> np.ndarray:
    """Images (n, H, W[, C]) side by side in rows of `cols`, on a mid-grey background."""
    n, h, w = images.shape[:3]
    rows = -(-n // cols)
    sheet = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, *images.shape[3:]), 0.5,
                    np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        sheet[gap + r * (h + gap): gap + r * (h + gap) + h,
              gap + c * (w + gap): gap + c * (w + gap) + w] = img
    return sheet
