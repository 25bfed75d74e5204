# The two commands that matter on a fresh machine (see README):
#   make demo   — install, generate a demo district, load it, scan it, serve it
#   make test   — install with test dependencies and run the whole suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || (apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei) || echo "fonts-wqy-zenhei not installed: PDF reports fall back to a non-embedded font"

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || (apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

demo: install
	$(BIN)/oversight demo

test: install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
