"""cnnviz router: page config and navigation only (no TensorFlow here, so the shell paints fast)."""

import streamlit as st

from cnnviz.ui import shell

st.set_page_config(page_title="cnnviz", page_icon=":material/grid_on:", layout="wide")
shell.navigation().run()
