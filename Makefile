# Two commands for readers: `make book` and `make test`. Both create or reuse .venv
# from requirements.lock (the one tested set of versions) on a machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WHITENLIB_JAX_CACHE := $(CURDIR)/_build/jax-cache
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test unit chapters clean env

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (whitenlib)" > /dev/null
	touch $(STAMP)

## book: execute every chapter and build the HTML (warnings are errors) into _build/html
book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

## test: unit tests, every chapter through nbval, then the book build
test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) book

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not chapter"

## chapters: only execute the chapters through nbval
chapters: $(STAMP)
	$(BIN)/python -m pytest -m chapter

clean:
	rm -rf _build
