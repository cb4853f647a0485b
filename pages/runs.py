import pandas as pd
import streamlit as st

from cnnviz import plots, runs
from cnnviz.ui import shell
from cnnviz.ui.run_report import run_report, use_run_button

shell.routed()
st.title("Runs")
st.caption("Every training, from this page or from `python -m cnnviz train`, is a folder with "
           "its model, history and settings under the runs directory (`runs/`, or "
           "`$CNNVIZ_RUNS_DIR`).")

entries = runs.scan_runs()
readable = {e.name: e for e in entries if e.record is not None}
for e in entries:
    if e.record is None:
        st.warning(f"Run {e.name} cannot be read: {e.problem}. It is left out.",
                   icon=":material/folder_off:")
if not readable:
    st.info("No runs yet: train a model on the Train page or with `python -m cnnviz train`.",
            icon=":material/folder_open:")
    st.stop()
st.dataframe(pd.DataFrame([{
    "run": name, "model": r.config["preset"], "dataset": r.config["dataset"],
    "optimizer": str(r.config.get("optimizer", "")).upper(),
    "learning rate": r.config.get("learning_rate"), "batch size": r.config.get("batch_size"),
    "epochs": len(r.history.get("loss", [])), "test accuracy": r.test_accuracy,
    "seconds": round(r.seconds), "stopped early": r.stopped_early}
    for name, r in ((n, e.record) for n, e in readable.items())]),
    hide_index=True, width="stretch", key="runs_table",
    column_config={"test accuracy": st.column_config.NumberColumn(format="percent"),
                   "learning rate": st.column_config.NumberColumn(format="%g")})

chosen = st.multiselect("Compare curves", list(readable), default=list(readable)[:2],
                        max_selections=4, key="runs_compare")
if chosen:
    st.plotly_chart(plots.runs_overlay({n: readable[n].record.history for n in chosen}),
                    key="runs_overlay", width="stretch")

st.subheader("One run")
name = st.selectbox("Run", list(readable), key="runs_one")
entry = readable[name]
c1, c2 = st.columns(2)
with c1:
    try:
        model_bytes = (entry.path / "model.keras").read_bytes()
    except OSError:
        st.error(f"Run {name}'s model.keras cannot be read any more.")
        st.stop()
    st.download_button("Download model.keras", model_bytes, file_name=f"{name}.keras",
                       key="runs_download", icon=":material/download:", width="stretch")
with c2:
    use_run_button(str(entry.path), "runs_use")
with st.expander("Settings (config.json)", icon=":material/settings:"):
    st.json(entry.record.config)
run_report(str(entry.path), "runs_report")
