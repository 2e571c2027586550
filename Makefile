# The two commands: `make run` (dashboard on http://localhost:8501) and `make test` (every test).
# Both create .venv if missing, install the exact pins (requirements.txt, and the development tools of
# requirements-dev.txt), install system packages where possible, and prepare the bundled data. Idempotent.
# `make run` listens on 127.0.0.1 only; `make run ADDRESS=0.0.0.0` opens it to the network (then use the
# TLS proxy of deploy/nginx.conf: passwords would otherwise cross the network in clear).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
ADDRESS ?= 127.0.0.1
PORT ?= 8501

.PHONY: run test setup sysdeps prepare demo lint bench clean bundle

run: setup
	$(PY) -m streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT)

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

setup: $(STAMP) sysdeps prepare

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
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
