# `make run` and `make test` set everything up themselves: a .venv with the pinned requirements,
# and KERAS_HOME pointing at the shared datasets when they are beside the checkout.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_DIR ?= ../shared/data/keras/datasets
PORT ?= 8501

ifeq ($(KERAS_HOME),)
ifneq ($(wildcard $(DATA_DIR)),)
export KERAS_HOME := $(CURDIR)/.cache/keras
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test unit app e2e screenshots bench clean keras-home

# Rebuilt when requirements/constraints change, or when the venv is missing, broken or was made
# by another Python version.
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
$(STAMP): requirements.txt constraints.txt
	@$(PY) -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "$(PY_VERSION)"' 2>/dev/null \
		|| { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $(STAMP)

keras-home:
	@if [ -n "$(KERAS_HOME)" ] && [ -d "$(DATA_DIR)" ] && [ ! -e "$(KERAS_HOME)/datasets" ]; then \
		mkdir -p "$(KERAS_HOME)" && ln -s "$(abspath $(DATA_DIR))" "$(KERAS_HOME)/datasets"; fi

run: $(STAMP) keras-home
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: $(STAMP) keras-home
	$(PY) -m pytest

unit: $(STAMP) keras-home
	$(PY) -m pytest tests/unit

app: $(STAMP) keras-home
	$(PY) -m pytest tests/app

e2e: $(STAMP) keras-home
	$(PY) -m pytest tests/e2e

# The browser tests again, writing their screenshots into docs/ (a plain run keeps them in /tmp).
screenshots: $(STAMP) keras-home
	CNNVIZ_SCREENSHOTS=docs $(PY) -m pytest tests/e2e

bench: $(STAMP) keras-home
	$(PY) -m bench

clean:
	rm -rf $(VENV) .cache .pytest_cache
