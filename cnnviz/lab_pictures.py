"""The labs' pictures: maps side by side with the window, patch and output cell boxed, and,
for small maps, their numbers written in the cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.pictures import (BACKGROUND, MUTED, cell_for, colour_bar, colourize, enlarge, font,
                             stack, tile_sheet, value_scale)


@dataclass(frozen=True)
class Panel:
    """One map of a lab picture: its values, the boxes to draw on it, whether to write the
    numbers in its cells (small maps), and its colour scale (None: its own)."""

    title: str
    values: np.ndarray  # (h, w), or (h, w, 3) in [0, 1] for a colour image
    boxes: tuple = ()  # (rows, cols, colour) each: the cells it surrounds
    numbers: bool = False
    scale: tuple | None = None  # (anchors, lo, hi)
    marks: tuple = ()  # (row, col) cells marked with a dot (a dilated kernel's taps)


HIGHLIGHT = (245, 133, 24)
ARGMAX = (84, 162, 75)


def panels(items: list[Panel], height: int = 260) -> Image.Image:
    """Maps side by side, each enlarged by whole pixels to about `height` (NaN cells are
    left blank: not computed yet), with their boxes and, for small maps, their numbers."""
    tiles = []
    for p in items:
        a = np.asarray(p.values, np.float64)
        cell = cell_for(*a.shape[:2], height)
        if a.ndim == 3:
            rgb = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
        else:
            anchors, lo, hi = p.scale or value_scale(a)
            rgb = colourize(a, anchors, lo, hi)
            rgb[np.isnan(a)] = BACKGROUND
        tile = enlarge(rgb, cell)
        draw = ImageDraw.Draw(tile)
        if p.numbers and a.ndim == 2:
            _write_numbers(draw, a, cell, rgb)
        for r, c in p.marks:
            draw.rectangle([c * cell + cell // 3, r * cell + cell // 3,
                            c * cell + 2 * cell // 3, r * cell + 2 * cell // 3], fill=HIGHLIGHT)
        for rows, cols, colour in p.boxes:
            draw.rectangle([min(cols) * cell, min(rows) * cell, (max(cols) + 1) * cell - 1,
                            (max(rows) + 1) * cell - 1], outline=colour, width=3)
        tiles.append(tile)
    titles = [f"{p.title} ({'x'.join(map(str, np.shape(p.values)))})" for p in items]
    return tile_sheet(tiles, titles, len(tiles), gap=24)


def _write_numbers(draw, a: np.ndarray, cell: int, rgb: np.ndarray) -> None:
    size = max(8, min(14, cell // 4))
    for (r, c), v in np.ndenumerate(a):
        if np.isnan(v):
            continue
        dark = rgb[r, c].astype(int).sum() < 384  # light text on dark cells
        draw.text((c * cell + cell / 2, r * cell + cell / 2), f"{v:.3g}", font=font(size),
                  fill=(255, 255, 255) if dark else (0, 0, 0), anchor="mm")


def conv_views(padded: np.ndarray, pads, kernel: np.ndarray, output: np.ndarray,
               window: dict, cell: tuple[int, int]) -> Image.Image:
    """The Convolution lab's step: the input with its padding (the image itself outlined in
    grey), the patch behind `cell` boxed (and a dilated kernel's taps marked), the kernel, and
    the output with `cell` boxed; the output's colour scale below."""
    top, left = pads[0][0], pads[1][0]
    h, w = padded.shape[0] - top - pads[0][1], padded.shape[1] - left - pads[1][1]
    rows, cols = np.asarray(window["rows"]) + top, np.asarray(window["cols"]) + left
    dilated = len(rows) > 1 and rows[1] - rows[0] > 1 or len(cols) > 1 and cols[1] - cols[0] > 1
    marks = tuple((r, c) for r in rows for c in cols) if dilated else ()
    image_box = ((range(top, top + h), range(left, left + w), MUTED),) if top or left or \
        pads[0][1] or pads[1][1] else ()
    out_scale = value_scale(output)
    sheet = panels([
        Panel("Input" + (" with its padding" if image_box else ""), padded,
              (*image_box, (rows, cols, HIGHLIGHT)), numbers=max(padded.shape[:2]) <= 12,
              marks=marks),
        Panel("Kernel", kernel, numbers=max(kernel.shape) <= 7),
        Panel("Output", output, (([cell[0]], [cell[1]], HIGHLIGHT),),
              numbers=max(output.shape) <= 12, scale=out_scale)])
    return stack(sheet, colour_bar(*out_scale))


def pool_views(x: np.ndarray, pooled: np.ndarray, window: dict,
               cell: tuple[int, int]) -> Image.Image:
    """The Pooling lab's step: the map with the window boxed (and its maximum, for max
    pooling), and the output filled up to `cell` in reading order, on one colour scale."""
    shown = pooled.astype(np.float64).copy()
    later = np.arange(shown.size).reshape(shown.shape) > cell[0] * shown.shape[1] + cell[1]
    shown[later] = np.nan  # not pooled yet: the output grows cell by cell
    scale = value_scale(x)
    small = max(x.shape) <= 12
    boxes = [(window["rows"], window["cols"], HIGHLIGHT)]
    if window["argmax"] is not None:
        boxes.append(([window["argmax"][0]], [window["argmax"][1]], ARGMAX))
    sheet = panels([Panel("Input", x, tuple(boxes), numbers=small, scale=scale),
                    Panel("Pooled", shown, (([cell[0]], [cell[1]], HIGHLIGHT),),
                          numbers=small or max(shown.shape) <= 12, scale=scale)])
    return stack(sheet, colour_bar(*scale))
