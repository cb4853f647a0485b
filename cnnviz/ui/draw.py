"""The canvas of the Draw page and the Embedding map, with Undo, Redo and Clear as buttons.

The canvas component's own tool bar shows only while a pointer is over it (never on a phone),
and its edit mode moves strokes instead of drawing them; it is hidden (`_TOOL_BAR_HIDDEN`) and
the page's buttons replace it. Each button gives the canvas a new drawing to start from (the
strokes so far, less or more one), which the component draws and sends back as pixels, as after
a stroke; until those arrive, the canvas counts as empty. The strokes are kept outside the
widget, which Streamlit forgets when its page is not shown, so a drawing also survives a visit
to another page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st


@dataclass
class Strokes:
    """What the canvas holds, kept in the session."""

    objects: list = field(default_factory=list)  # Fabric.js objects, oldest first
    undone: list = field(default_factory=list)  # for Redo, the last undone at the end
    pixels: np.ndarray | None = None  # grey pixels of `objects`, once the canvas sent them
    start: dict | None = None  # the drawing the canvas was last told to start from
    waiting_for: int | None = None  # strokes the canvas must send back after a button
    version: int = 0  # makes each new start a new value: the canvas redraws only on a change


_BRUSH = "brush_width"


def brush(key: str) -> int:
    """A brush width slider; the width is kept outside the widget, so that the other page with
    a canvas starts with it (Streamlit forgets a widget's value when its page is not shown)."""
    width = st.slider("Brush width", 8, 40, st.session_state.get(_BRUSH, 18), key=key)
    st.session_state[_BRUSH] = width
    return width


def kept(key: str) -> Strokes:
    if f"{key}_strokes" not in st.session_state:
        st.session_state[f"{key}_strokes"] = Strokes()
    return st.session_state[f"{key}_strokes"]


# streamlit-drawable-canvas 0.13 has no option to hide its tool bar and draws it inside its
# shadow root, where the page's CSS cannot reach. This component's script, run in the page (a
# v2 component has no iframe), adds one style rule to its canvas's shadow root: the canvas stays
# in drawing mode, with the page's buttons as its only controls.
_TOOL_BAR_HIDDEN = st.components.v2.component("cnnviz.canvas_tool_bar_hidden", html="", js="""
export default function ({ data }) {
  // Runs when the page draws the canvas beside it; the canvas may attach its shadow root a
  // moment later, so it looks again for up to two seconds, then stops: nothing keeps watching
  // the page.
  let tries = 0;
  const hide = () => {
    const hosts = document.querySelectorAll(
      `.st-key-${data.canvas} [data-testid="stBidiComponentIsolated"]`);
    let missing = hosts.length === 0;
    hosts.forEach((host) => {
      const root = host.shadowRoot;
      if (!root || !root.querySelector(".dc-toolbar")) { missing = true; return; }
      if (root.querySelector("style[data-cnnviz]")) return;
      const style = document.createElement("style");
      style.dataset.cnnviz = "";
      style.textContent = ".dc-toolbar { display: none !important; }";
      root.appendChild(style);
    });
    if (missing && ++tries < 20) setTimeout(hide, 100);
  };
  hide();
}
""")


def canvas(key: str, stroke_width: int):
    """A 280x280 black canvas with white ink, like MNIST, and its buttons; its grey pixels, or
    None before the first stroke."""
    from streamlit_drawable_canvas import st_canvas  # registers a component: only in a page

    from cnnviz import preprocess

    s = kept(key)
    if key not in st.session_state and s.objects:  # a new visit: draw what was kept
        pixels = s.pixels
        _start_from(s, s.objects)
        s.waiting_for, s.pixels = None, pixels  # a first drawing is not sent back
    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF",
                       background_color="#000000", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=key,
                       initial_drawing=s.start)
    grey = _read(s, result.json_data, preprocess.canvas_grey(result.image_data))
    _buttons(key, s)  # after reading the canvas: enabled for the strokes it holds now
    return grey


def _read(s: Strokes, json_data: dict | None, grey):
    """The pixels to classify from what the canvas sent, keeping `s` up to date."""
    objects = (json_data or {}).get("objects", [])
    if s.waiting_for is not None:
        if len(objects) != s.waiting_for:
            return None  # the canvas has not drawn the buttons' change yet
        s.waiting_for = None
    if grey is None:
        return s.pixels
    if len(objects) > len(s.objects):
        s.undone.clear()  # a new stroke: what was undone is gone, as in any editor
    s.objects, s.pixels = objects, grey
    return grey


def _start_from(s: Strokes, objects: list) -> None:
    s.version += 1
    s.start = {"objects": list(objects), "cnnvizVersion": s.version}
    s.objects, s.waiting_for, s.pixels = list(objects), len(objects), None


def _undo(key: str) -> None:
    s = kept(key)
    s.undone.append(s.objects[-1])
    _start_from(s, s.objects[:-1])


def _redo(key: str) -> None:
    s = kept(key)
    _start_from(s, [*s.objects, s.undone.pop()])


def _clear(key: str) -> None:
    s = kept(key)
    s.undone.clear()
    _start_from(s, [])


def _buttons(key: str, s: Strokes) -> None:
    with st.container(horizontal=True):
        st.button("Undo", key=f"{key}_undo", icon=":material/undo:", on_click=_undo,
                  args=(key,), disabled=not s.objects)
        st.button("Redo", key=f"{key}_redo", icon=":material/redo:", on_click=_redo,
                  args=(key,), disabled=not s.undone)
        st.button("Clear", key=f"{key}_clear", icon=":material/delete:", on_click=_clear,
                  args=(key,), disabled=not s.objects)
        # in the row: no line of its own
        _TOOL_BAR_HIDDEN(key=f"{key}_tool_bar_hidden", data={"canvas": key})
