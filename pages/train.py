from pathlib import Path

import streamlit as st

from cnnviz import live
from cnnviz.ui import shell
from cnnviz.ui import train as panels
from cnnviz.ui.run_report import run_report, use_run_button

shell.routed()
st.title("Train a network")
st.caption("Pick a dataset and a model (or build your own), press Train, and watch Keras "
           "learn: the loss falling, the first layer's filters taking shape, the feature maps "
           "sharpening. Runs are saved and can be used on the other pages.")

run = st.session_state.get("train_run")
busy = run is not None and run.running
# a layer stack being edited gets the page's width: its table has eight columns to show
editing = st.session_state.get("train_preset") == panels.CUSTOM and not busy
setup, watch = (st.container(), st.container()) if editing else \
    st.columns([1, 1.5], gap="large")
with setup:
    config = panels.train_setup("train", disabled=busy)
    if busy:
        st.button("Stop training", key="train_stop", icon=":material/stop_circle:", type="primary",
                  on_click=run.stop, width="stretch",
                  help="Ends after the current batch; the weights so far are kept and saved.")
    elif st.button("Train", key="train_start", icon=":material/play_circle:", type="primary",
                   disabled=config is None, width="stretch"):
        try:
            st.session_state["train_run"] = live.LiveRun(config).start()
        except live.TooBusy as err:
            st.error(str(err), icon=":material/hourglass_top:")
        else:
            st.rerun()  # redraw with the controls locked and a Stop button

with watch:
    if run is None:
        st.info("The live view appears here once training starts. The starting settings "
                "train LeNet-5 on 6,000 images for 2 epochs, about half a minute; choose a "
                "model to start from its published recipe instead.",
                icon=":material/monitoring:")
        st.stop()

    # once a second, as the trainer publishes filters and maps; each redraw costs the
    # browser, so one fragment rather than one per part
    @st.fragment(run_every=1.0 if busy else None)
    def live_view():
        state = run.snapshot()  # one consistent snapshot per redraw
        panels.progress(state, "train_live")
        panels.visuals(state, "train_live")
        if busy and not run.running:
            st.rerun()  # finished: redraw the whole page with the results

    live_view()
    state = run.snapshot()
    if state.failed:
        st.error(state.message, icon=":material/error:")
    elif not busy and state.finished:
        stopped = " (stopped early; the weights so far were kept)" \
            if state.status is live.Status.STOPPED else ""
        st.success(f"Saved as run {Path(state.run_dir).name}{stopped}.",
                   icon=":material/task_alt:")
        use_run_button(state.run_dir, "train_use")

if run is not None and not busy and state.finished:
    st.subheader("How the trained model does on the test set")
    run_report(state.run_dir, "train_report")
