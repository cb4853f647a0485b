"""Pictures rendered on the server as PNGs: feature-map mosaics, preprocessing stages,
saliency overlays and probability bars.

A browser shows a PNG with one <img>; a Plotly figure costs it a chart mount on every stroke
(Streamlit gives a changed figure a new identity). So what a drawing redraws is drawn here,
pixel-exact: every map cell is a square of `cell` screen pixels (nearest-neighbour), and each
picture has its colour scale beside it as numbers.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
TEXT = (49, 51, 63)  # Streamlit's body text
MUTED = (128, 128, 140)
# Anchors of the colour maps, evenly spaced from 0 to 1 (matplotlib's, sampled).
GREY = [(0, 0, 0), (255, 255, 255)]
DIVERGING = [(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)]
HEAT = [(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66), (245, 125, 21),
        (250, 193, 39), (252, 255, 164)]


@lru_cache(maxsize=8)
def font(size: int = 13) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def colourize(a: np.ndarray, anchors, lo: float, hi: float) -> np.ndarray:
    """Values to RGB uint8 through a colour map; NaN (a diverged training) is mid-grey."""
    t = (np.asarray(a, np.float64) - lo) / (hi - lo if hi > lo else 1.0)
    t = np.clip(np.nan_to_num(t, nan=0.5), 0, 1) * (len(anchors) - 1)
    i = np.minimum(t.astype(int), len(anchors) - 2)
    f = (t - i)[..., None]
    table = np.asarray(anchors, np.float64)
    return (table[i] * (1 - f) + table[i + 1] * f).round().astype(np.uint8)


def value_scale(a: np.ndarray) -> tuple[list, float, float]:
    """Signed values on a diverging scale centred at 0; non-negative ones black to white."""
    finite = np.asarray(a)[np.isfinite(a)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if lo < 0:
        bound = max(-lo, hi, 1e-12)
        return DIVERGING, -bound, bound
    return GREY, 0.0, hi if hi > 0 else 1.0


def enlarge(rgb: np.ndarray, cell: int) -> Image.Image:
    return Image.fromarray(rgb).resize((rgb.shape[1] * cell, rgb.shape[0] * cell),
                                       Image.NEAREST)


def cell_for(h: int, w: int, target: int) -> int:
    """Whole screen pixels per map cell so that the longer side is about `target` pixels."""
    return max(1, round(target / max(h, w)))


def colour_bar(anchors, lo: float, hi: float, width: int = 220) -> Image.Image:
    """A horizontal colour bar with its two ends written out."""
    strip = colourize(np.linspace(lo, hi, width)[None].repeat(10, 0), anchors, lo, hi)
    img = Image.new("RGB", (width + 2, 30), BACKGROUND)
    img.paste(Image.fromarray(strip), (1, 0))
    draw = ImageDraw.Draw(img)
    draw.text((1, 13), f"{lo:.3g}", fill=MUTED, font=font(12))
    draw.text((width + 1, 13), f"{hi:.3g}", fill=MUTED, font=font(12), anchor="ra")
    return img


def tile_sheet(tiles: list[Image.Image], titles: list[str], cols: int, gap: int = 10,
                title_px: int = 18) -> Image.Image:
    """Tiles in rows of `cols`, each under its title, on a white background."""
    tw, th = max(t.width for t in tiles), max(t.height for t in tiles)
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (cols * (tw + gap) - gap, rows * (th + title_px + gap) - gap),
                      BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for k, (tile, title) in enumerate(zip(tiles, titles)):
        r, c = divmod(k, cols)
        x, y = c * (tw + gap), r * (th + title_px + gap)
        draw.text((x + tw // 2, y), title, fill=TEXT, font=font(13), anchor="ma")
        sheet.paste(tile, (x + (tw - tile.width) // 2, y + title_px))
    return sheet


def feature_maps(fmap: np.ndarray, max_channels: int = 32, cols: int = 8,
                 tile_px: int = 84) -> Image.Image:
    """One layer's maps (h, w, c): a tile per channel on the layer's shared colour scale,
    with the scale below."""
    channels = min(fmap.shape[-1], max_channels)
    anchors, lo, hi = value_scale(fmap[..., :channels])
    cell = cell_for(*fmap.shape[:2], tile_px)
    tiles = [enlarge(colourize(fmap[..., i], anchors, lo, hi), cell) for i in range(channels)]
    sheet = tile_sheet(tiles, [f"#{i}" for i in range(channels)], min(cols, channels))
    return stack(sheet, colour_bar(anchors, lo, hi, min(220, sheet.width - 2)))


def filters(kernel: np.ndarray, max_filters: int = 32, cols: int | None = 8,
            tile_px: int = 56) -> Image.Image:
    """A conv layer's filters (kh, kw, c_in, c_out): for 3 input channels an RGB picture each,
    else the first input channel on one scale centred at 0 (red adds, blue subtracts).
    cols=None: a near-square grid, for a narrow column."""
    n = min(kernel.shape[-1], max_filters)
    cols = int(np.ceil(np.sqrt(n))) if cols is None else min(n, cols)
    cell = cell_for(*kernel.shape[:2], tile_px)
    titles = [f"#{i}" for i in range(n)]
    if kernel.shape[2] == 3:
        lo, hi = float(kernel.min()), float(kernel.max())
        rgb = ((kernel[..., :n] - lo) / (hi - lo or 1) * 255).round().astype(np.uint8)
        return tile_sheet([enlarge(rgb[..., i], cell) for i in range(n)], titles, cols)
    bound = float(np.abs(kernel[:, :, 0, :n]).max()) or 1.0
    tiles = [enlarge(colourize(kernel[:, :, 0, i], DIVERGING, -bound, bound), cell)
             for i in range(n)]
    sheet = tile_sheet(tiles, titles, cols)
    return stack(sheet, colour_bar(DIVERGING, -bound, bound, min(220, sheet.width - 2)))


def stack(top: Image.Image, bottom: Image.Image, gap: int = 8) -> Image.Image:
    img = Image.new("RGB", (max(top.width, bottom.width), top.height + gap + bottom.height),
                    BACKGROUND)
    img.paste(top, (0, 0))
    img.paste(bottom, (0, top.height + gap))
    return img


def stages(named: dict[str, np.ndarray], titles: dict[str, str], height: int = 150) -> Image.Image:
    """The preprocessing stages side by side, each with its true aspect ratio (a 13×20 fit is
    drawn 13 wide and 20 high), enlarged by whole pixels into the same height."""
    tiles, labels = [], []
    for name, a in named.items():
        cell = max(1, height // max(a.shape[:2]))
        tiles.append(enlarge(colourize(a, GREY, 0.0, 1.0), cell))
        # the bundled font has no "×"
        labels.append(f"{titles[name]} ({a.shape[1]}x{a.shape[0]})".replace("×", "x"))
    width = max(max(t.width for t in tiles), max(font(13).getlength(s) for s in labels) + 8)
    boxed = [_pad_to(t, int(width), height) for t in tiles]
    return tile_sheet(boxed, labels, len(boxed), gap=14)


def _pad_to(tile: Image.Image, width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height), BACKGROUND)
    img.paste(tile, ((width - tile.width) // 2, (height - tile.height) // 2))
    return img


def overlays(image: np.ndarray, maps: dict[str, np.ndarray], tile_px: int = 168) -> Image.Image:
    """The input, then each explanation map (scaled to its maximum) laid over it as heat."""
    grey = colourize(image, GREY, 0.0, 1.0).astype(np.float64)
    tiles = [grey]
    for m in maps.values():
        heat = m / m.max() if m.max() > 0 else m
        alpha = np.clip(heat, 0, 1)[..., None] * 0.85
        tiles.append(grey * (1 - alpha) + colourize(heat, HEAT, 0.0, 1.0) * alpha)
    cell = cell_for(*image.shape[:2], tile_px)
    return tile_sheet([enlarge(t.round().astype(np.uint8), cell) for t in tiles],
                  ["Input", *maps], len(tiles))


def network(image: np.ndarray, outputs: dict[str, np.ndarray], max_maps: int = 8,
            max_units: int = 48, tile: int = 44) -> Image.Image:
    """The whole forward pass left to right: the input, each conv or pooling layer's maps as
    small tiles (the first `max_maps`), each dense layer's units as a column of cells (the
    first `max_units`), all on each layer's own scale, with its name and shape above."""
    columns, titles = [enlarge(colourize(image.reshape(image.shape[:2]), GREY, 0, 1),
                                max(1, 2 * tile // max(image.shape[:2])))], ["input"]
    for path, out in outputs.items():
        anchors, lo, hi = value_scale(out)
        if out.ndim == 3:
            cell = max(1, round(tile / max(out.shape[:2])))
            cells = [enlarge(colourize(out[..., c], anchors, lo, hi), cell)
                     for c in range(min(out.shape[-1], max_maps))]
        else:  # one cell per unit, as tall as the maps' column allows, 14 px wide
            strip = colourize(out[:max_units, None], anchors, lo, hi)
            h = max(3, min(14, 8 * tile // len(strip)))
            cells = [Image.fromarray(strip).resize((14, h * len(strip)), Image.NEAREST)]
        columns.append(_column(cells))
        titles.append(f"{path.split('/')[-1]} {'x'.join(map(str, out.shape))}")
    return _row(columns, titles)


def _column(cells: list[Image.Image], gap: int = 3) -> Image.Image:
    img = Image.new("RGB", (max(c.width for c in cells),
                            sum(c.height for c in cells) + gap * (len(cells) - 1)), BACKGROUND)
    y = 0
    for c in cells:
        img.paste(c, ((img.width - c.width) // 2, y))
        y += c.height + gap
    return img


def _row(columns: list[Image.Image], titles: list[str], gap: int = 18) -> Image.Image:
    """Columns side by side under their titles, tops aligned."""
    widths = [max(c.width, int(font(11).getlength(t)) + 4) for c, t in zip(columns, titles)]
    img = Image.new("RGB", (sum(widths) + gap * (len(widths) - 1),
                            max(c.height for c in columns) + 18), BACKGROUND)
    draw, x = ImageDraw.Draw(img), 0
    for column, title, w in zip(columns, titles, widths):
        draw.text((x + w // 2, 0), title, fill=TEXT, font=font(11), anchor="ma")
        img.paste(column, (x + (w - column.width) // 2, 18))
        x += w + gap
    return img


def with_box(image: np.ndarray, box: tuple[int, int, int, int], tile_px: int = 224,
             colour=(255, 140, 0)) -> Image.Image:
    """A grey image enlarged, with the rectangle (top, left, bottom, right; inclusive) drawn
    around its pixels, e.g. the input pixels a unit looks at."""
    cell = cell_for(*image.shape[:2], tile_px)
    img = enlarge(colourize(np.asarray(image).reshape(image.shape[:2]), GREY, 0.0, 1.0), cell)
    top, left, bottom, right = box
    ImageDraw.Draw(img).rectangle([left * cell, top * cell, (right + 1) * cell - 1,
                                   (bottom + 1) * cell - 1], outline=colour, width=2)
    return img


def probability_bars(probs: np.ndarray, labels, width: int = 520, height: int = 200) -> Image.Image:
    """One bar per class with its probability written above it; the top class stands out."""
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    n, base = len(probs), height - 22
    top = int(np.argmax(probs)) if np.max(probs) > 0 else -1  # before a drawing: none
    pitch = width / n
    for i, p in enumerate(probs):
        x0, x1 = i * pitch + pitch * 0.18, (i + 1) * pitch - pitch * 0.18
        y = base - float(np.clip(p, 0, 1)) * (base - 22)
        draw.rectangle([x0, y, x1, base], fill=(255, 75, 75) if i == top else (160, 160, 175))
        draw.text(((x0 + x1) / 2, y - 3), f"{p:.0%}" if p >= 0.005 else "0%",
                  fill=TEXT if i == top else MUTED, font=font(12), anchor="mb")
        draw.text(((x0 + x1) / 2, base + 4), str(labels[i]), fill=TEXT, font=font(14),
                  anchor="ma")
    draw.line([(0, base), (width, base)], fill=(200, 200, 210))
    return img


def image_sheet(images: np.ndarray, titles, cols: int, tile_px: int = 84) -> Image.Image:
    """Images (n, H, W, C) in [0, 1], grey or RGB, as tiles under their titles."""
    cell = cell_for(*images.shape[1:3], tile_px)
    rgb = (np.clip(images, 0, 1) * 255).round().astype(np.uint8)
    tiles = [enlarge(a[..., 0] if a.shape[-1] == 1 else a, cell) for a in rgb]
    return tile_sheet(tiles, list(titles), min(cols, len(tiles)))


def heat_rows(rows: dict[str, list[np.ndarray]], titles, tile_px: int = 84) -> Image.Image:
    """One row of maps per name, each map scaled to its own maximum (the shape of a saliency
    map is what is compared, not its size), the name at the left."""
    first = next(iter(rows.values()))[0]
    cell = cell_for(*first.shape[:2], tile_px)
    label_w = max(int(font(13).getlength(name)) for name in rows) + 12
    tiles, labels = [], []
    for name, maps in rows.items():
        label = Image.new("RGB", (label_w, first.shape[0] * cell), BACKGROUND)
        ImageDraw.Draw(label).text((0, label.height // 2), name, fill=TEXT, font=font(13),
                                   anchor="lm")
        tiles.append(label)
        labels.append("")
        for m in maps:
            top = float(m.max())
            tiles.append(enlarge(colourize(m / top if top > 0 else m, HEAT, 0.0, 1.0), cell))
        labels += list(titles)
    return tile_sheet(tiles, labels, len(titles) + 1, gap=6)


def png(img: Image.Image) -> bytes:
    """PNG bytes, compressed lightly: these are made on every stroke."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
