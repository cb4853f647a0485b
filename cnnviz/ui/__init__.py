"""The Streamlit layer, the only code that imports streamlit.

shell: the page table, navigation and the one Streamlit workaround. resources: cached
datasets and models behind one model identity. choice: which model a page uses (shipped, a
run, an upload). widgets: controls two or more pages share. The other modules hold the panels
of the page they are named for.
"""
