"""A bare two-page Streamlit app, the reference of bench/draw_browser.py: the bare canvas page
(`/`, "Draw") and a one-line "About" page, in a menu as the app's. Run from bench/."""

import streamlit as st


def about():
    st.title("About")


st.set_page_config(page_title="bare", layout="wide")  # the app's layout: the same canvas place
st.navigation([st.Page("bare_canvas.py", title="Draw", default=True),
               st.Page(about, title="About")]).run()
