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
    top = int(np.argmax(probs))
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


def feature_maps(fmap: np.ndarray, max_channels: int = 32) -> go.Figure:
    """One layer's maps (h, w, c): a heatmap per channel on the layer's shared colour range."""
    channels = min(fmap.shape[-1], max_channels)
    maps = np.moveaxis(fmap[..., :channels], -1, 0)
    lo, hi = float(fmap.min()), float(fmap.max())
    return heatmap_grid(maps, [f"#{i}" for i in range(channels)], cols=min(channels, 8),
                        cell_px=90, colorscale="Viridis", zmin=lo, zmax=hi if hi > lo else lo + 1,
                        hover="%{z:.3f}")
