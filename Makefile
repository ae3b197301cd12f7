# Two commands for a fresh machine (see README):
#   make serve   runs tokenwatch on the embedded default config
#   make test    installs everything the tests need and runs the whole suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test venv servers bench lint clean

$(STAMP): pyproject.toml setup.py otel_tokenwatch/otlp/_wirec.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(BIN)/tokenwatch serve

servers:
	bash .ci/install-servers.sh

test: $(STAMP) servers
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/relay.py

lint: $(STAMP)
	$(BIN)/ruff check otel_tokenwatch tests bench
	$(BIN)/python -m mypy otel_tokenwatch

clean:
	rm -rf $(VENV) tokenwatch-data .pytest_cache
