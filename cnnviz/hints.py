"""How a drawing differs from the digits the network learned from: hints, not refusals.

MNIST digits fill most of a 20×20 box with strokes about 2 pixels wide, one digit per image.
A drawing that is much smaller, drawn with a much thinner or thicker pen, or holds two digits
side by side is still classified; the learner is told why the answer may be off. Thresholds
leave almost every MNIST test digit without a hint (tests/unit/test_hints.py measures it).
"""

from __future__ import annotations

import numpy as np

SMALL_SPAN = 0.3  # the ink spans less than this share of the image's longer side
THIN_STROKE = 1.1  # estimated stroke width in the 28×28 input, in pixels (MNIST: median 1.8)
THICK_STROKE = 4.5
SIDE_BY_SIDE = 1.15  # width / height of the ink above which two digits are looked for


def stroke_width(model_input: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the ink's outline length (a stroke of
    width w and length L has area w·L and an outline of about 2·L)."""
    ink = np.asarray(model_input).reshape(model_input.shape[:2]) > 0.5
    padded = np.pad(ink, 1)
    edges = (np.count_nonzero(padded[1:] != padded[:-1]) +
             np.count_nonzero(padded[:, 1:] != padded[:, :-1]))
    return 2.0 * np.count_nonzero(ink) / edges if edges else 0.0


def looks_like_two(cropped: np.ndarray) -> bool:
    """Wider than tall, with an empty column splitting the ink into two parts of which each
    is at least a quarter of its width."""
    h, w = cropped.shape
    if w < SIDE_BY_SIDE * h:
        return False
    columns = (np.asarray(cropped) > 0.2).any(axis=0)
    gaps = np.flatnonzero(~columns)
    return bool(np.any((gaps >= w // 4) & (gaps <= w - w // 4)))


def span(raw: np.ndarray) -> float:
    """The ink's longer side as a share of the whole image's (from the 28×28 raw stage)."""
    rows, cols = np.flatnonzero(raw.any(axis=1)), np.flatnonzero(raw.any(axis=0))
    if rows.size == 0:
        return 0.0
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / max(raw.shape)


def hints(stages: dict) -> list[str]:
    """Sentences for a learner about what makes this drawing unlike MNIST digits."""
    found = []
    cropped = stages["cropped"]
    if span(stages["raw"] > 0.2) < SMALL_SPAN:
        found.append("Your digit is small: MNIST digits fill most of their box, so drawn "
                     "larger it looks more like what the network learned from.")
    if looks_like_two(cropped):
        found.append("This looks like more than one digit side by side: the network reads "
                     "one digit at a time.")
    width = stroke_width(stages["input"])
    if width < THIN_STROKE:
        found.append(f"After scaling, your strokes are about {width:.1f} px wide, thinner "
                     "than MNIST's (about 2 px): a wider brush matches the training digits better.")
    elif width > THICK_STROKE:
        found.append(f"After scaling, your strokes are about {width:.0f} px wide, much "
                     "thicker than MNIST's (about 2 px): a thinner brush matches them better.")
    return found
