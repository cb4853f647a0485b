import pandas as pd
import streamlit as st

from cnnviz import plots, training
from cnnviz.ui import shell
from cnnviz.ui.run_report import run_report, use_run_button

shell.routed()
st.title("Runs")
st.caption("Every training, from this page or from `python -m cnnviz train`, is a folder with "
           "its model, history and settings under the runs directory (`runs/`, or "
           "`$CNNVIZ_RUNS_DIR`).")

runs = training.list_runs()
if not runs:
    st.info("No runs yet: train a model on the Train page or with `python -m cnnviz train`.",
            icon=":material/folder_open:")
    st.stop()
info = {}
for run_dir in runs:
    try:
        info[run_dir.name] = training.read_run(run_dir)
    except (OSError, ValueError) as err:
        st.warning(f"Run {run_dir.name} cannot be read ({err}); it is skipped.")
st.dataframe(pd.DataFrame([{
    "run": name, "model": r["config"]["preset"], "dataset": r["config"]["dataset"],
    "epochs": len(r["history"].get("loss", [])), "test accuracy": r["test_accuracy"],
    "seconds": round(r["seconds"]), "stopped early": r["stopped_early"]}
    for name, r in info.items()]), hide_index=True, width="stretch", key="runs_table",
    column_config={"test accuracy": st.column_config.NumberColumn(format="percent")})

chosen = st.multiselect("Compare curves", list(info), default=list(info)[:2], max_selections=4,
                        key="runs_compare")
if chosen:
    st.plotly_chart(plots.runs_overlay({n: info[n]["history"] for n in chosen}),
                    key="runs_overlay", width="stretch")

st.subheader("One run")
name = st.selectbox("Run", list(info), key="runs_one")
run_dir = training.DEFAULT_RUNS_DIR / name
c1, c2 = st.columns(2)
with c1:
    st.download_button("Download model.keras", (run_dir / "model.keras").read_bytes(),
                       file_name=f"{name}.keras", key="runs_download",
                       icon=":material/download:", width="stretch")
with c2:
    use_run_button(str(run_dir), "runs_use")
with st.expander("Settings (config.json)", icon=":material/settings:"):
    st.json(info[name]["config"])
run_report(str(run_dir), "runs_report")
