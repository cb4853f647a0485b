"""Plotly figures, and only figures: pages call these and pass them to st.plotly_chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = dict(family="Inter, system-ui, sans-serif", size=13)


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", **kw)
    return fig


def _square_pixels(fig: go.Figure, n: int) -> None:
    """Hide the axes and keep each image's pixels square (every subplot pairs x_i with y_i)."""
    fig.update_xaxes(visible=False, constrain="domain")
    for i in range(1, n + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"yaxis{suffix}"].update(visible=False, autorange="reversed",
                                            scaleanchor=f"x{suffix}", constrain="domain")


def heatmap_grid(images, titles, *, cols: int = 10, cell_px: int = 80, colorscale="gray",
                 zmin=0.0, zmax=1.0, hover="%{z:.2f}") -> go.Figure:
    """Small images in a grid, each with a title: (N,H,W[,1]) as heatmaps, (N,H,W,3) as RGB."""
    n = len(images)
    cols = min(cols, n)
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                        horizontal_spacing=0.02 / max(cols / 10, 1),
                        vertical_spacing=0.12 / max(rows, 1))
    for i, img in enumerate(images):
        img = np.asarray(img)
        r, c = divmod(i, cols)
        if img.ndim == 3 and img.shape[-1] == 3:
            trace = go.Image(z=(np.clip(img, 0, 1) * 255).astype(np.uint8))
        else:
            trace = go.Heatmap(z=img.reshape(img.shape[:2]), colorscale=colorscale, zmin=zmin,
                               zmax=zmax, showscale=False,
                               hovertemplate=f"row %{{y}}, col %{{x}}: {hover}<extra></extra>")
        fig.add_trace(trace, row=r + 1, col=c + 1)
    _square_pixels(fig, n)
    fig.update_annotations(font_size=12)
    return _layout(fig, height=rows * (cell_px + 28) + 20)


def image_grid(images, titles, cols: int = 10) -> go.Figure:
    """Dataset images in [0, 1] with their labels."""
    return heatmap_grid(images, titles, cols=cols)


def probability_bars(probs, class_names) -> go.Figure:
    top = int(np.argmax(probs)) if np.max(probs) > 0 else None  # all zero: nothing drawn yet
    colours = ["#4c78a8" if i != top else "#f58518" for i in range(len(probs))]
    fig = go.Figure(go.Bar(
        x=list(class_names), y=probs, marker_color=colours,
        text=[f"{p:.1%}" if p >= 0.005 else "" for p in probs], textposition="outside",
        hovertemplate="%{x}: %{y:.4f}<extra></extra>", cliponaxis=False,
    ))
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%", title="probability")
    fig.update_xaxes(type="category", title="class")
    return _layout(fig, height=280)


def _pad_square(img: np.ndarray) -> np.ndarray:
    """Centre a non-square image on a black square so every panel has the same scale."""
    h, w = img.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(img, ((top, side - h - top), (left, side - w - left)))


def stages_strip(stages: dict, titles: dict) -> go.Figure:
    """The preprocessing stages side by side (each padded square for display), values on hover."""
    names = list(stages)
    fig = make_subplots(rows=1, cols=len(names),
                        subplot_titles=[f"{titles[n]}<br><sup>{stages[n].shape[1]}×{stages[n].shape[0]}</sup>"
                                        for n in names], horizontal_spacing=0.04)
    for i, n in enumerate(names):
        fig.add_trace(go.Heatmap(z=_pad_square(stages[n]), colorscale="gray", zmin=0, zmax=1,
                                 showscale=n == names[-1],
                                 hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"),
                      row=1, col=i + 1)
    _square_pixels(fig, len(names))
    fig.update_annotations(font_size=12)
    return _layout(fig, height=260)


def mosaic(images: np.ndarray, *, cols: int, colorscale="Viridis", zmin=None, zmax=None,
           label: str = "map", cell_px: int = 90) -> go.Figure:
    """Many small maps (n, h, w) tiled into ONE heatmap, one-pixel gaps between them.

    One trace instead of a subplot per map: about 20x cheaper to build and send, which is what
    lets the Train page redraw feature maps twice a second without slowing training."""
    n, h, w = images.shape
    cols = min(cols, n)
    rows = -(-n // cols)
    z = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    index = np.full(z.shape, -1, np.int32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        z[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = img
        index[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = i
    lo = float(np.nanmin(images)) if zmin is None else zmin
    hi = float(np.nanmax(images)) if zmax is None else zmax
    fig = go.Figure(go.Heatmap(
        z=z, customdata=index, colorscale=colorscale, zmin=lo, zmax=hi if hi > lo else lo + 1,
        showscale=False, hoverongaps=False,
        hovertemplate=f"{label} #%{{customdata}}: %{{z:.3f}}<extra></extra>"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    annotations = [dict(x=c * (w + 1) + (w - 1) / 2, y=r * (h + 1) - 0.5, text=f"#{i}",
                        showarrow=False, yanchor="bottom", font=dict(size=11, color="#888"))
                   for i in range(n) for r, c in [divmod(i, cols)]]
    return _layout(fig, height=rows * (cell_px + 18) + 30, annotations=annotations)


def feature_maps(fmap: np.ndarray, max_channels: int = 32) -> go.Figure:
    """One layer's maps (h, w, c): a tile per channel on the layer's shared colour range."""
    channels = min(fmap.shape[-1], max_channels)
    return mosaic(np.moveaxis(fmap[..., :channels], -1, 0), cols=min(channels, 8))


# --- Convolution and pooling labs ------------------------------------------------------------

HIGHLIGHT = "#f58518"


def _value_scale(a: np.ndarray) -> dict:
    """Signed values on a diverging scale centred at 0; non-negative ones on grey."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo < 0:
        bound = max(-lo, hi, 1e-12)
        return dict(colorscale="RdBu_r", zmin=-bound, zmax=bound)
    return dict(colorscale="gray", zmin=0.0, zmax=hi if hi > 0 else 1.0)


def _map_trace(img: np.ndarray, text: bool = False, scale: dict | None = None):
    img = np.asarray(img)
    if img.ndim == 3:
        return go.Image(z=(np.clip(img, 0, 1) * 255).astype(np.uint8),
                        hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>")
    extra = dict(texttemplate="%{z:.3~g}", textfont=dict(size=11)) if text else {}
    return go.Heatmap(z=img.astype(np.float32), showscale=False, **(scale or _value_scale(img)),
                      hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>", **extra)


def _box(fig, rows, cols, subplot: int, colour: str = HIGHLIGHT) -> None:
    suffix = "" if subplot == 1 else str(subplot)
    fig.add_shape(type="rect", x0=min(cols) - 0.5, x1=max(cols) + 0.5, y0=min(rows) - 0.5,
                  y1=max(rows) + 0.5, line=dict(color=colour, width=3),
                  xref=f"x{suffix}", yref=f"y{suffix}")


def _panels(images: list, titles: list[str], *, text: list[bool] | None = None,
            height: int = 340, widths=None) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(images), subplot_titles=titles,
                        column_widths=widths, horizontal_spacing=0.05)
    for i, img in enumerate(images):
        fig.add_trace(_map_trace(img, text=bool(text and text[i])), row=1, col=i + 1)
    _square_pixels(fig, len(images))
    fig.update_annotations(font_size=13)
    return _layout(fig, height=height)


def _shape(a) -> str:
    return "×".join(str(d) for d in np.shape(a))


def conv_views(image, kernel, output, *, window: dict | None = None,
               cell: tuple[int, int] | None = None) -> go.Figure:
    """Input, kernel and output side by side; the patch behind `cell` boxed on the input."""
    small = max(np.shape(kernel)) <= 7
    fig = _panels([image, kernel, output],
                  [f"Input {_shape(image)}", f"Kernel {_shape(kernel)}", f"Output {_shape(output)}"],
                  text=[False, small, False], widths=[0.38, 0.24, 0.38])
    if window is not None:
        _box(fig, window["rows"], window["cols"], 1)
        if len(window["rows"]) > 1 and window["rows"][1] - window["rows"][0] > 1 \
                or len(window["cols"]) > 1 and window["cols"][1] - window["cols"][0] > 1:
            r, c = np.meshgrid(window["rows"], window["cols"], indexing="ij")  # dilated taps
            fig.add_trace(go.Scatter(x=c.ravel(), y=r.ravel(), mode="markers", hoverinfo="skip",
                                     marker=dict(color=HIGHLIGHT, size=6, symbol="square")),
                          row=1, col=1)
    if cell is not None:
        _box(fig, [cell[0]], [cell[1]], 3)
    return fig


def arithmetic(patch, kernel, products) -> go.Figure:
    """Patch × kernel = products, every number written in its cell; one row per channel."""
    channels = patch.shape[2]
    names = ["R", "G", "B"] if channels == 3 else [f"channel {c}" for c in range(channels)]
    label = (lambda c: "") if channels == 1 else (lambda c: f" ({names[c]})")
    fig = make_subplots(rows=channels, cols=3, horizontal_spacing=0.06, vertical_spacing=0.08,
                        subplot_titles=[t + label(c) for c in range(channels)
                                        for t in ("Input patch", "× kernel", "= products")])
    for c in range(channels):
        for j, a in enumerate((patch[..., c], kernel[..., c], products[..., c])):
            fig.add_trace(_map_trace(a, text=True), row=c + 1, col=j + 1)
    _square_pixels(fig, channels * 3)
    fig.update_annotations(font_size=12)
    return _layout(fig, height=min(60 + 44 * patch.shape[0], 360) * channels)


def pool_views(x, pooled, *, window: dict | None, cell: tuple[int, int] | None) -> go.Figure:
    """The map with the current window (and its max) boxed, and the output filled up to `cell`."""
    shown = pooled.astype(np.float64).copy()
    if cell is not None:  # the output grows cell by cell, in reading order
        later = np.arange(shown.size).reshape(shown.shape) > cell[0] * shown.shape[1] + cell[1]
        shown[later] = np.nan
    small = x.shape[0] <= 12 and x.shape[1] <= 12
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"Input {_shape(x)}",
                                                        f"Pooled {_shape(pooled)}"],
                        horizontal_spacing=0.06)
    scale = _value_scale(x)
    fig.add_trace(_map_trace(x, text=small, scale=scale), row=1, col=1)
    fig.add_trace(_map_trace(shown, text=small or max(shown.shape) <= 12, scale=scale),
                  row=1, col=2)
    if window is not None:
        _box(fig, window["rows"], window["cols"], 1)
        if window["argmax"] is not None:
            _box(fig, [window["argmax"][0]], [window["argmax"][1]], 1, colour="#54a24b")
        _box(fig, [cell[0]], [cell[1]], 2)
    _square_pixels(fig, 2)
    fig.update_annotations(font_size=13)
    return _layout(fig, height=380)


def shift_views(maps: dict[str, np.ndarray]) -> go.Figure:
    """Before/after maps for the shift demo, each on its own scale."""
    return _panels(list(maps.values()), list(maps), height=260)


def channel_outputs(maps: dict[str, np.ndarray]) -> go.Figure:
    """Per-channel results on one shared scale, so their sizes compare."""
    scale = _value_scale(np.stack(list(maps.values())))
    return heatmap_grid(list(maps.values()), list(maps), cols=len(maps), cell_px=220,
                        hover="%{z:.4f}", **scale)


# --- training ----------------------------------------------------------------------------------

RUN_COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#e45756"]


def ema(values, alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average that ignores NaN, for noisy per-batch curves."""
    out, level = np.empty(len(values)), np.nan
    for i, v in enumerate(np.asarray(values, np.float64).tolist()):
        level = v if level != level else level if v != v else level + alpha * (v - level)
        out[i] = level
    return out


def training_curves(batch_loss, batch_acc, epoch_logs, steps: int | None,
                    fig: go.Figure | None = None) -> go.Figure:
    """Loss and accuracy: each batch (faint), smoothed (bold), and per epoch train vs
    validation (markers at the epoch's last batch). Pass the previous figure to refill it in
    place: about 6x cheaper than building one, which matters at two redraws a second."""
    fig = fig or _curves_skeleton()
    n = len(batch_loss)
    shown = np.unique(np.r_[np.linspace(0, n - 1, min(n, 400)).astype(int), n - 1]) if n \
        else np.zeros(0, int)
    x = np.arange(1, n + 1)[shown]  # at most ~400 points drawn: plotly's cost grows with them
    ex = np.arange(1, len(epoch_logs) + 1) * (steps or 1)
    series = []
    for values, key in ((batch_loss, "loss"), (batch_acc, "accuracy")):
        values = np.asarray(values, np.float64)
        series += [(x, values[shown]), (x, ema(values)[shown])]
        for prefix in ("", "val_"):
            series.append((ex, np.array([log.get(prefix + key, np.nan) for log in epoch_logs],
                                        np.float64)))
    with fig.batch_update():
        for trace, (xs, ys) in zip(fig.data, series):
            trace.x, trace.y = xs, ys
            trace.visible = bool(np.isfinite(ys).any())  # no validation set: no legend entry
    return fig


def _curves_skeleton() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Loss", "Accuracy"],
                        horizontal_spacing=0.08)
    styles = [("batch", dict(mode="lines", line=dict(color="#9ecae9", width=1))),
              ("batch, smoothed", dict(mode="lines", line=dict(color=RUN_COLOURS[0], width=2.5))),
              ("epoch (train)", dict(mode="lines+markers", marker=dict(size=9),
                                     line=dict(color="#2a5783", dash="dot"))),
              ("epoch (validation)", dict(mode="lines+markers", marker=dict(size=9),
                                          line=dict(color=RUN_COLOURS[1], dash="dot")))]
    for col in (1, 2):
        for name, style in styles:
            fig.add_trace(go.Scatter(x=[], y=[], name=name, legendgroup=name,
                                     showlegend=col == 1, **style), row=1, col=col)
    fig.update_xaxes(title="batch")
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    return _layout(fig, height=320, legend=dict(orientation="h", y=-0.25))


def runs_overlay(histories: dict[str, dict]) -> go.Figure:
    """Per-epoch loss and accuracy of several runs (validation dashed where present)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Loss", "Accuracy"],
                        horizontal_spacing=0.08)
    for i, (name, history) in enumerate(histories.items()):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        for col, key in ((1, "loss"), (2, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                ys = history.get(prefix + key)
                if ys:
                    fig.add_trace(go.Scatter(
                        x=np.arange(1, len(ys) + 1), y=ys, mode="lines+markers",
                        name=f"{name}{' (validation)' if prefix else ''}", legendgroup=name,
                        showlegend=col == 1, line=dict(color=colour, dash=dash)), row=1, col=col)
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    return _layout(fig, height=320, legend=dict(orientation="h", y=-0.25))


def filters_grid(kernel: np.ndarray, max_filters: int = 32) -> go.Figure:
    """A conv layer's filters (kh, kw, c_in, c_out): RGB composites for 3 input channels,
    else the first input channel, on one symmetric colour scale."""
    n = min(kernel.shape[-1], max_filters)
    if kernel.shape[2] == 3:
        lo, hi = kernel.min(), kernel.max()
        images = [(kernel[..., i] - lo) / (hi - lo or 1) for i in range(n)]
        return heatmap_grid(images, [f"#{i}" for i in range(n)], cols=min(n, 8), cell_px=70)
    bound = float(np.abs(kernel).max()) or 1.0
    return mosaic(np.moveaxis(kernel[:, :, 0, :n], -1, 0), cols=min(n, 8), colorscale="RdBu_r",
                  zmin=-bound, zmax=bound, label="filter", cell_px=70)


def confusion(counts: np.ndarray, class_names) -> go.Figure:
    """Counts per (true, predicted) pair; colours scaled to the largest mistake, so the
    confusions stand out rather than the (saturated) diagonal."""
    names = [str(c) for c in class_names]
    mistakes = counts - np.diag(np.diag(counts))
    fig = go.Figure(go.Heatmap(
        z=counts, x=names, y=names, colorscale="Blues", texttemplate="%{z}", zmin=0,
        zmax=max(int(mistakes.max()), 1),
        hovertemplate="true %{y}, predicted %{x}: %{z} images<extra></extra>",
    ))
    fig.update_xaxes(title="predicted", type="category", side="top")
    fig.update_yaxes(title="true", type="category", autorange="reversed", scaleanchor="x")
    return _layout(fig, height=460)


# --- inside the network ----------------------------------------------------------------------

HEAT = [[0.0, "rgba(255,80,0,0)"], [0.35, "rgba(255,80,0,0.25)"], [1.0, "rgba(255,230,0,0.9)"]]


def overlays(image: np.ndarray, maps: dict[str, np.ndarray], height: int = 300) -> go.Figure:
    """The input, then each explanation map laid over it as translucent heat."""
    names = list(maps)
    fig = make_subplots(rows=1, cols=len(names) + 1, subplot_titles=["Input", *names],
                        horizontal_spacing=0.03)
    for col in range(1, len(names) + 2):
        fig.add_trace(_map_trace(image if image.ndim == 2 or image.shape[2] == 3
                                 else image[..., 0], scale=dict(colorscale="gray", zmin=0,
                                                                zmax=1)), row=1, col=col)
    for col, name in enumerate(names, start=2):
        m = maps[name]
        m = m / m.max() if m.max() > 0 else m
        fig.add_trace(go.Heatmap(z=m, colorscale=HEAT, zmin=0, zmax=1, showscale=False,
                                 hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"),
                      row=1, col=col)
    _square_pixels(fig, len(names) + 1)
    fig.update_annotations(font_size=13)
    return _layout(fig, height=height)


def weight_histogram(weights: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Histogram(x=np.ravel(weights), nbinsx=60, marker_color=RUN_COLOURS[0],
                                 hovertemplate="%{x}: %{y} weights<extra></extra>"))
    fig.update_xaxes(title="weight")
    fig.update_yaxes(title="count")
    return _layout(fig, height=260)


def dream_grid(images: np.ndarray, titles, references: np.ndarray | None = None,
               ref_title: str = "mean") -> go.Figure:
    """Optimised inputs, with a reference image per target (e.g. the class mean) below."""
    shown = list(images) + (list(references) if references is not None else [])
    labels = list(titles) + ([f"{ref_title} {t}" for t in titles] if references is not None
                             else [])
    return heatmap_grid(shown, labels, cols=len(images), cell_px=90, hover="%{z:.2f}")


def layer_costs(layers: list[dict]) -> go.Figure:
    """Parameters and FLOPs per layer, side by side, log scale: they differ by 1000s."""
    names = [layer["name"] for layer in layers]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Parameters", "FLOPs per image"],
                        horizontal_spacing=0.1)
    for col, key, colour in ((1, "params", RUN_COLOURS[0]), (2, "flops", RUN_COLOURS[1])):
        fig.add_trace(go.Bar(x=names, y=[max(layer[key], 0) for layer in layers],
                             marker_color=colour, showlegend=False,
                             hovertemplate="%{x}: %{y:,}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(type="log")
    fig.update_xaxes(tickangle=-45)
    return _layout(fig, height=360)


def architectures_map(summaries: dict[str, dict]) -> go.Figure:
    """Every architecture by parameters and multiply-adds (log-log)."""
    fig = go.Figure(go.Scatter(
        x=[s["total_params"] for s in summaries.values()],
        y=[max(s["macs"], 1) for s in summaries.values()], text=list(summaries),
        mode="markers+text", textposition="top center",
        marker=dict(size=14, color=RUN_COLOURS[0]),
        hovertemplate="%{text}: %{x:,} parameters, %{y:,} multiply-adds<extra></extra>"))
    fig.update_xaxes(type="log", title="parameters")
    fig.update_yaxes(type="log", title="multiply-adds per image")
    return _layout(fig, height=360)
