"""The bare reference for the Draw page (bench/draw_browser.py): the same canvas component with
the Draw page's arguments and two metrics computed from its pixels, no model and no charts."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

st.title("Draw a digit")  # the Draw page's title: the same detection code works on both
result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000",
                   height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                   key="draw_canvas")
ink = None if result.image_data is None else result.image_data[..., 0] / 255.0
if ink is None or not ink.any():
    st.info("Draw a digit from 0 to 9 on the canvas.")
else:
    c1, c2 = st.columns(2)
    c1.metric("Prediction", int(ink.mean() * 1000) % 10)  # a digit that changes with the ink
    c2.metric("Confidence", f"{(ink > 0.5).mean():.1%}")  # the ink fraction
