# `make run` and `make test` work from a fresh clone: each creates .venv when missing
# and installs the core, every plugin under plugins/ (editable) and the test tools,
# pinned by constraints.txt. Nothing is reinstalled when nothing changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PLUGINS := $(sort $(wildcard plugins/*))
PLUGIN_FILES := $(wildcard plugins/*/pyproject.toml plugins/*/setup.cfg)

.PHONY: run test lint install bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt requirements-dev.txt $(PLUGIN_FILES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt -e '.[plots]' $(addprefix -e ./,$(PLUGINS))
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hpo-run --strategy bayes --backend keras --dataset digits --trials 24 --seed 0 \
		--backend-option epochs=10 --study make-run

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) *.egg-info hpo.db
