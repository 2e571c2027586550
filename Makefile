# The two commands: `make run` (dashboard on http://localhost:8501) and `make test` (every test).
# Both create .venv if missing, install the exact pins, install system packages where possible,
# and prepare the bundled data. Idempotent.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test setup sysdeps prepare demo lint bench clean bundle

run: setup
	$(PY) -m streamlit run app.py --server.port 8501

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

setup: $(STAMP) sysdeps prepare

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

sysdeps:
	@bash scripts/sysdeps.sh

prepare: $(STAMP)
	$(PY) -m scripts.prepare

demo: $(STAMP)
	$(PY) -m scripts.demo --force

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: setup
	$(PY) -m scripts.benchmark --scale national

# Offline install bundle for a Debian 12 x86_64 intranet server (dist/*.tar; see README, Deployment).
bundle: $(STAMP)
	$(PY) -m scripts.build_bundle

clean:
	rm -rf $(VENV) static/vendor data/*.duckdb data/*.duckdb.wal
