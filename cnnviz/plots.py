"""Plotly figures, and only figures: pages call these and pass them to st.plotly_chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = dict(family="Inter, system-ui, sans-serif", size=13)


def base_layout(height: int, **kw) -> dict:
    # the tool bar stands at the right edge, where it does not cover the titles on hover
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                modebar=dict(orientation="v"), **kw)


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(**base_layout(height, **kw))
    return fig


def _grid(panels: list[list[dict]], titles, *, height: int, cols: int | None = None,
          widths=None, h_gap: float = 0.04, v_gap: float = 0.1, title_size: int = 12,
          **layout) -> go.Figure:
    """Image panels in a grid, each a list of trace dicts drawn on its own hidden axes with
    square pixels, titled above; panel i (from 0) is on axes x{i+1}/y{i+1} ("x"/"y" first).

    Written as one dict and validated once: make_subplots and update_* calls cost ~5x more,
    and the Draw page and the labs build these on every stroke and every step."""
    cols = min(cols or len(panels), len(panels))
    rows = -(-len(panels) // cols)
    w = np.asarray(widths or [1.0] * cols, float)
    w = w / w.sum() * (1 - h_gap * (cols - 1))
    lefts = np.r_[0.0, np.cumsum(w + h_gap)[:-1]]
    cell = (1 - v_gap * (rows - 1)) / rows
    data, axes, annotations = [], {}, []
    for i, (traces, title) in enumerate(zip(panels, titles)):
        r, c = divmod(i, cols)
        top, suffix = 1 - r * (cell + v_gap), "" if i == 0 else str(i + 1)
        axes[f"xaxis{suffix}"] = dict(domain=[lefts[c], lefts[c] + w[c]], anchor=f"y{suffix}",
                                      visible=False, constrain="domain")
        axes[f"yaxis{suffix}"] = dict(domain=[max(top - cell, 0.0), top], anchor=f"x{suffix}",
                                      visible=False, autorange="reversed",
                                      scaleanchor=f"x{suffix}", constrain="domain")
        data += [dict(t, xaxis=f"x{suffix}", yaxis=f"y{suffix}") for t in traces]
        annotations.append(dict(text=title, x=lefts[c] + w[c] / 2, y=top, xref="paper",
                                yref="paper", xanchor="center", yanchor="bottom",
                                showarrow=False, font=dict(size=title_size)))
    return go.Figure(dict(data=data, layout=base_layout(height, annotations=annotations, **axes,
                                                  **layout)))


def _heatmap(z, colorscale="gray", zmin=0.0, zmax=1.0, hover="%{z:.2f}", **kw) -> dict:
    return {"type": "heatmap", "z": np.asarray(z), "colorscale": colorscale, "zmin": zmin,
            "zmax": zmax, "showscale": False,
            "hovertemplate": f"row %{{y}}, col %{{x}}: {hover}<extra></extra>", **kw}


def _rgb(img: np.ndarray, **kw) -> dict:
    return dict(type="image", z=(np.clip(img, 0, 1) * 255).astype(np.uint8), **kw)


def heatmap_grid(images, titles, *, cols: int = 10, cell_px: int = 80, colorscale="gray",
                 zmin=0.0, zmax=1.0, hover="%{z:.2f}") -> go.Figure:
    """Small images in a grid, each with a title: (N,H,W[,1]) as heatmaps, (N,H,W,3) as RGB."""
    cols = min(cols, len(images))
    rows = -(-len(images) // cols)
    panels = []
    for img in images:
        img = np.asarray(img)
        panels.append([_rgb(img) if img.ndim == 3 and img.shape[-1] == 3 else
                       _heatmap(img.reshape(img.shape[:2]), colorscale, zmin, zmax, hover)])
    height = rows * (cell_px + 34) + 20
    # a row's titles sit in the gap above it: 30 px of gap, whatever the number of rows
    return _grid(panels, list(titles), cols=cols, h_gap=0.02 / max(cols / 10, 1),
                 v_gap=30 / height, height=height)


def image_grid(images, titles, cols: int = 10) -> go.Figure:
    """Dataset images in [0, 1] with their labels."""
    return heatmap_grid(images, titles, cols=cols)


# --- Convolution and pooling labs ------------------------------------------------------------



def _value_scale(a: np.ndarray) -> dict:
    """Signed values on a diverging scale centred at 0; non-negative ones on grey."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo < 0:
        bound = max(-lo, hi, 1e-12)
        return dict(colorscale="RdBu_r", zmin=-bound, zmax=bound)
    return dict(colorscale="gray", zmin=0.0, zmax=hi if hi > 0 else 1.0)


def _map_trace(img: np.ndarray, text: bool = False, scale: dict | None = None) -> dict:
    img = np.asarray(img)
    if img.ndim == 3:
        return _rgb(img, hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>")
    # three grids side by side share ~700 px: wider kernels get shorter numbers, smaller type
    # fixed decimals from 5×5 up: "4.4e-05" does not fit a cell (hover gives every digit)
    template, size = ("%{z:.3~g}", 11) if max(img.shape) <= 3 else \
        ("%{z:.2f}", 10) if max(img.shape) <= 5 else ("%{z:.1f}", 9)
    extra = dict(texttemplate=template, textfont=dict(size=size)) if text else {}
    return _heatmap(img.astype(np.float32), hover="%{z:.4f}", **(scale or _value_scale(img)),
                    **extra)


def arithmetic(patch, kernel, products) -> go.Figure:
    """Patch × kernel = products, every number written in its cell; one row per channel."""
    channels = patch.shape[2]
    names = ["R", "G", "B"] if channels == 3 else [f"channel {c}" for c in range(channels)]
    label = (lambda c: "") if channels == 1 else (lambda c: f" ({names[c]})")
    return _grid([[_map_trace(a[..., c], text=True)] for c in range(channels)
                  for a in (patch, kernel, products)],
                 [t + label(c) for c in range(channels)
                  for t in ("Input patch", "× kernel", "= products")],
                 cols=3, h_gap=0.04, v_gap=0.08,
                 height=(60 + 40 * max(patch.shape[0], 3)) * channels)


def shift_views(maps: dict[str, np.ndarray]) -> go.Figure:
    """Before/after maps for the shift demo, each on its own scale."""
    return _grid([[_map_trace(m)] for m in maps.values()], list(maps), h_gap=0.05,
                 title_size=13, height=260)


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


def training_curves(batch_loss, batch_acc, epoch_logs, epoch_ends,
                    fig: go.Figure | None = None) -> go.Figure:
    """Loss and accuracy: each batch (faint), smoothed (bold), and per epoch train vs
    validation (markers at the epoch's last batch, `epoch_ends`). Pass the previous figure to
    refill it in place: about 6x cheaper than building one, at two redraws a second."""
    fig = fig or _curves_skeleton()
    n = len(batch_loss)
    shown = np.unique(np.r_[np.linspace(0, n - 1, min(n, 400)).astype(int), n - 1]) if n \
        else np.zeros(0, int)
    x = np.arange(1, n + 1)[shown]  # at most ~400 points drawn: plotly's cost grows with them
    ex = np.asarray(epoch_ends)  # one per entry of epoch_logs
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


def accuracy_curves(curves: dict[str, tuple], x_title: str) -> go.Figure:
    """Accuracy against a corruption's strength, one line per model ({name: (strengths,
    accuracies)}); the uncorrupted images, at 0, marked."""
    fig = go.Figure([go.Scatter(x=list(xs), y=list(ys), mode="lines+markers", name=name,
                                line=dict(color=RUN_COLOURS[i % len(RUN_COLOURS)], width=2.5),
                                hovertemplate="%{x:g}: %{y:.1%}")
                     for i, (name, (xs, ys)) in enumerate(curves.items())])
    fig.add_vline(x=0, line=dict(color="#b0b0b8", dash="dot"))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title="accuracy", range=[0, 1.02], tickformat=".0%")
    return _layout(fig, height=360, legend=dict(orientation="h", y=-0.25))


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

def channel_sums(sums: np.ndarray) -> go.Figure:
    """A conv unit's sum per input channel: which channels push it up, which down."""
    fig = go.Figure(go.Bar(x=list(range(len(sums))), y=sums,
                           marker_color=[RUN_COLOURS[0] if v >= 0 else RUN_COLOURS[1]
                                         for v in sums],
                           hovertemplate="channel %{x}: %{y:.5f}<extra></extra>"))
    fig.update_xaxes(title="input channel", type="category")
    fig.update_yaxes(title="Σ patch × kernel")
    return _layout(fig, height=220)


def contributions(values: np.ndarray, top: int = 15) -> go.Figure:
    """A dense unit's largest inputs × weights, positive and negative, largest first."""
    order = np.argsort(-np.abs(values))[:top]
    fig = go.Figure(go.Bar(x=[f"#{i}" for i in order], y=values[order],
                           marker_color=[RUN_COLOURS[0] if values[i] >= 0 else RUN_COLOURS[1]
                                         for i in order],
                           hovertemplate="input %{x}: %{y:.5f}<extra></extra>"))
    fig.update_xaxes(title="input (largest weight × value first)", type="category")
    fig.update_yaxes(title="weight × input")
    return _layout(fig, height=260)


def weight_histogram(weights: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Histogram(x=np.ravel(weights), nbinsx=60, marker_color=RUN_COLOURS[0],
                                 hovertemplate="%{x}: %{y} weights<extra></extra>"))
    fig.update_xaxes(title="weight")
    fig.update_yaxes(title="count")
    return _layout(fig, height=260)


def dream_grid(images: np.ndarray, titles, references: np.ndarray | None = None,
               reference_titles=()) -> go.Figure:
    """Optimised inputs, with a reference image per target (e.g. the class mean) below."""
    shown = list(images) + (list(references) if references is not None else [])
    labels = list(titles) + list(reference_titles)
    # rows of at most 10: sixteen filters side by side left no room for their titles
    return heatmap_grid(shown, labels, cols=min(len(images), 10), cell_px=90, hover="%{z:.2f}")


def layer_costs(layers: list[dict]) -> go.Figure:
    """Parameters and FLOPs per layer, side by side, log scale: they differ by 1000s."""
    names = [layer["name"] for layer in layers]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Parameters", "FLOPs per image"],
                        horizontal_spacing=0.1)
    for col, key, colour in ((1, "params", RUN_COLOURS[0]), (2, "flops", RUN_COLOURS[1])):
        fig.add_trace(go.Bar(x=names, y=[layer[key] or 0 for layer in layers],
                             marker_color=colour, showlegend=False,
                             hovertemplate="%{x}: %{y:,}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(type="log")
    # VGG16's 23 names need small type to stand apart
    fig.update_xaxes(tickangle=-60, tickfont=dict(size=10 if len(names) > 12 else 12))
    return _layout(fig, height=400)


def architectures_map(summaries: dict[str, dict]) -> go.Figure:
    """Every architecture by parameters and multiply-adds (log-log)."""
    fig = go.Figure(go.Scatter(
        x=[s["total_params"] for s in summaries.values()],
        y=[max(s["macs"], 1) for s in summaries.values()], text=list(summaries),
        mode="markers+text",
        # neighbours' names alternate above and below their markers, so they do not collide
        textposition=["top center" if i % 2 == 0 else "bottom center"
                      for i in range(len(summaries))],
        marker=dict(size=14, color=RUN_COLOURS[0]),
        hovertemplate="%{text}: %{x:,} parameters, %{y:,} multiply-adds<extra></extra>"))
    params = [s["total_params"] for s in summaries.values()]
    macs = [max(s["macs"], 1) for s in summaries.values()]
    # a margin of half a decade on each side: the names at the edges are not clipped
    fig.update_xaxes(type="log", title="parameters",
                     range=[np.log10(min(params)) - 0.5, np.log10(max(params)) + 0.7])
    fig.update_yaxes(type="log", title="multiply-adds per image",
                     range=[np.log10(min(macs)) - 0.5, np.log10(max(macs)) + 0.5])
    return _layout(fig, height=420)
