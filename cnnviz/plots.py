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


def image_grid(images: np.ndarray, titles, cols: int = 10, cell_px: int = 80) -> go.Figure:
    """Small images (N,H,W,1) or (N,H,W,3) in [0,1] in a grid, each with a title."""
    n = len(images)
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                        horizontal_spacing=0.01, vertical_spacing=0.12 / max(rows, 1))
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        if img.shape[-1] == 1:
            trace = go.Heatmap(z=img[..., 0], colorscale="gray", zmin=0, zmax=1,
                               showscale=False, hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>")
        else:
            trace = go.Image(z=(np.clip(img, 0, 1) * 255).astype(np.uint8))
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_annotations(font_size=11)
    return _layout(fig, height=rows * (cell_px + 24) + 20)
