# `make run` and `make test` work from a fresh clone: each creates .venv when missing
# and installs the core, every plugin under plugins/ (editable) and the test tools,
# pinned by constraints.txt. Nothing is reinstalled when nothing changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PLUGINS := $(sort $(wildcard plugins/*))
PLUGIN_FILES := $(wildcard plugins/*/pyproject.toml plugins/*/setup.cfg)

.PHONY: run test lint install bench clean browser tutorial doc-examples

install: $(STAMP)

# quiet: pip's and setuptools' warnings (editable-install notices) are not for users;
# errors still print
$(STAMP): setup.cfg pyproject.toml constraints.txt requirements-dev.txt $(PLUGIN_FILES)
	@echo "installing the core, every plugin and the test tools into $(VENV) (about 3.8 GB, see README)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@PYTHONWARNINGS=ignore $(PY) -m pip install -qq --upgrade pip
	@PYTHONWARNINGS=ignore $(PY) -m pip install -qq -c constraints.txt -r requirements-dev.txt -e '.[plots]' $(addprefix -e ./,$(PLUGINS))
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hpo-run --strategy bayes --backend keras --dataset digits --trials 24 --seed 0 \
		--backend-option epochs=10 --study make-run

test: $(STAMP) browser
	$(PY) -m pytest -q --durations=15

# every example of README.md and docs/ in the order written, the slow pages included
# (about 30 min; `make test` runs the quick pages)
doc-examples: $(STAMP)
	HPO_DOC_EXAMPLES=all $(PY) -m pytest -q --durations=0 tests/test_doc_examples.py

# the dashboard's browser test drives Debian's headless chromium: installed here when it is
# missing and we are root (CI is); otherwise that one test skips and says why
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the dashboard's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			>/dev/null || echo "warning: could not install chromium; its test will skip"; \
	fi

# runs the tutorial's commands (about 25 min) and rewrites docs/tutorial.md from what they
# printed; rerun it whenever a strategy or backend changes
tutorial: $(STAMP)
	$(PY) scripts/tutorial.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) *.egg-info hpo.db
