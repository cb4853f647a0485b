"""Plotly figures of a model seen beyond one image: the embedding map with the drawing's point
and the saliency sanity check's correlation curves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.plots import RUN_COLOURS, base_layout

# Tableau's ten colours: distinct for ten classes, and readable on white.
CLASS_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac")


def embedding_map(points: np.ndarray, labels: np.ndarray, predictions: np.ndarray,
                  class_names, explained, drawing=None, neighbours=None) -> go.Figure:
    """Test images as points coloured by their label (a cross where the model is wrong),
    the drawing as a star and its nearest test images ringed. Each point carries its index
    (customdata), so a click can show its image.

    Written as one dict of WebGL traces: 5,000 points through go.Scatter's validation cost
    more than the whole rest of a rerun."""
    data = []
    for c, name in enumerate(class_names):
        idx = np.flatnonzero(labels == c)
        wrong = predictions[idx] != c
        data.append(dict(
            type="scattergl", x=points[idx, 0], y=points[idx, 1], mode="markers", name=str(name),
            customdata=idx, text=[str(class_names[p]) for p in predictions[idx]],
            marker=dict(color=CLASS_COLOURS[c % 10], size=5, opacity=0.75,
                        symbol=np.where(wrong, "x", "circle")),
            hovertemplate=f"test image #%{{customdata}}: a {name}, the model says "
                          "%{text}<extra></extra>"))
    if neighbours is not None:
        data.append(dict(type="scattergl", x=points[neighbours, 0], y=points[neighbours, 1],
                         mode="markers", name="nearest", customdata=neighbours,
                         marker=dict(size=13, color="rgba(0,0,0,0)",
                                     line=dict(color="#31333f", width=2)),
                         hovertemplate="nearest: test image #%{customdata}<extra></extra>"))
    if drawing is not None:
        data.append(dict(type="scattergl", x=[drawing[0]], y=[drawing[1]], mode="markers",
                         name="your drawing", marker=dict(symbol="star", size=22, color="#ff4b4b",
                                                         line=dict(color="white", width=1.5)),
                         hovertemplate="your drawing<extra></extra>"))
    axes = dict(zeroline=False, showticklabels=False, showgrid=True, gridcolor="#eee")
    # the legend at the right: below the plot it ran into the axis title on a narrow screen
    layout = base_layout(
        520, legend=dict(x=1.01, y=1, itemsizing="constant"),
        xaxis=dict(title=f"first direction ({explained[0]:.0%} of the variance)", **axes),
        yaxis=dict(title=f"second direction ({explained[1]:.0%})", **axes),
        dragmode="pan", clickmode="event+select", hovermode="closest")
    return go.Figure(dict(data=data, layout=layout))


def sanity_curves(steps, correlation: dict[str, list[float]]) -> go.Figure:
    """Rank correlation with the trained model's map as layers are re-initialised from the
    top: a method that stays near 1 does not depend on what the layers learned."""
    fig = go.Figure()
    for i, (method, values) in enumerate(correlation.items()):
        fig.add_trace(go.Scatter(x=list(steps), y=values, mode="lines+markers", name=method,
                                 line=dict(color=RUN_COLOURS[i % len(RUN_COLOURS)]),
                                 hovertemplate=f"{method}: %{{y:.3f}}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#bbb", width=1))
    fig.update_xaxes(title="re-initialised down to (cumulative, from the output)",
                     type="category")
    fig.update_yaxes(title="rank correlation with the trained map", range=[-1.05, 1.05])
    fig.update_layout(**base_layout(330, legend=dict(orientation="h", y=1.12)))
    return fig
