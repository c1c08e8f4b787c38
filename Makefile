# Two commands for readers: `make book` and `make test`. Both create or reuse .venv
# from requirements.lock (the one tested set of versions) on a machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WHITENLIB_JAX_CACHE := $(CURDIR)/_build/jax-cache
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# tests run on every core (pytest-xdist); `make test PARALLEL=` runs them in one process
PARALLEL ?= -n auto --dist load

.PHONY: book test lint unit chapters clean env mathjax execution-cache book-student check-site check-notebooks

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (whitenlib)" > /dev/null
	touch $(STAMP)

## mathjax: MathJax from its npm package, unpacked under _build/, so the site typesets offline
MATHJAX_VERSION := 3.2.2
MATHJAX := _build/mathjax/mathjax/tex-chtml.js
mathjax: $(MATHJAX)

$(MATHJAX):
	rm -rf _build/mathjax && mkdir -p _build/mathjax/npm
	cd _build/mathjax/npm && npm pack --silent mathjax@$(MATHJAX_VERSION) > /dev/null
	tar -xzf _build/mathjax/npm/mathjax-$(MATHJAX_VERSION).tgz -C _build/mathjax/npm
	mv _build/mathjax/npm/package/es5 _build/mathjax/mathjax
	cp _build/mathjax/npm/package/LICENSE _build/mathjax/mathjax/
	rm -rf _build/mathjax/npm _build/mathjax/mathjax/output/svg* _build/mathjax/mathjax/*svg*.js

## execution-cache: each chapter executes once. The chapter tests store what nbval executed in
## the jupyter-cache under _build/ (execute.cache in _config.yml), and both editions of the book take
## their outputs from it. jupyter-cache matches a chapter by its code cells only, so the cache is
## emptied whenever the library or requirements.lock changes.
CACHE := _build/.jupyter_cache
CACHE_KEY := $(shell cat requirements.lock $$(find whitenlib -name '*.py' | LC_ALL=C sort) | cksum | tr ' ' -)
execution-cache:
	@if [ "$$(cat $(CACHE)/whitenlib.key 2>/dev/null)" != "$(CACHE_KEY)" ]; then \
	  rm -rf $(CACHE) && mkdir -p $(CACHE) && echo "$(CACHE_KEY)" > $(CACHE)/whitenlib.key && \
	  echo "execution cache emptied (new library or lock)"; fi

## book: build the HTML (warnings are errors) into _build/html, executing every chapter that
## `make test` has not already executed
book: $(STAMP) $(MATHJAX) execution-cache
	$(BIN)/jupyter-book build . --all --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

## test: lint, unit tests and every chapter through nbval, then the book from those executions
test: lint $(STAMP) execution-cache
	$(BIN)/python -m pytest $(PARALLEL) --durations=20
	$(MAKE) book

## lint: ruff (configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not chapter"

## chapters: only execute the chapters through nbval (and fill the execution cache)
chapters: $(STAMP) execution-cache
	$(BIN)/python -m pytest $(PARALLEL) -m chapter

## book-student: the student edition, every exercise and no solution, into _build/student/html
## (the chapters' outputs come from the execution cache that `make test` or `make book` filled)
book-student: $(STAMP) $(MATHJAX) execution-cache
	WHITENBOOK_EDITION=student $(BIN)/jupyter-book build . --builder html -W -n --keep-going --path-output _build/student
	rm -rf _build/student/html && mv _build/student/_build/html _build/student/html
	@echo "Open _build/student/html/index.html in a browser."

## check-site: both built sites in Debian's Chromium driven by Playwright (after book, book-student);
## screenshots of every page go to _build/screenshots/
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
check-site: $(STAMP)
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null)
	$(BIN)/python tests/site_check.py --site _build/html --student _build/student/html

## check-notebooks: one chapter's notebook, downloaded from the served site as a reader gets it
## (Colab cell included), executed with nbconvert; `make test` has executed every chapter already
NOTEBOOK_PAGE := book/01_whitening
check-notebooks: $(STAMP)
	$(BIN)/python tests/site_check.py --site _build/html --execute-notebooks $(NOTEBOOK_PAGE)

clean:
	rm -rf _build

## lab: JupyterLab (installed from requirements.lock) on the chapters: jupytext opens each
## book/*.md as a notebook and saves edits back to the .md (no .ipynb is written)
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
.PHONY: lab
lab: $(STAMP)
	mkdir -p $(dir $(LAB_SETTINGS))
	printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) book/

## pdf: the whole book as one PDF through Jupyter Book's LaTeX builder (xelatex), reusing the
## outputs of `make book` when they are newer than the chapters: _build/latex/book.pdf, and the
## student edition (exercises, no solutions): _build/student/latex/book.pdf. Installs the TeX it
## needs from Debian's packages when missing, then checks both (no "??", numbered chapters, ...).
TEX_PACKAGES := latexmk texlive-latex-extra texlive-fonts-recommended texlive-xetex \
	texlive-plain-generic tex-gyre fonts-freefont-otf poppler-utils
.PHONY: pdf pdf-student tex
tex:
	(command -v latexmk && command -v xelatex && command -v pdftotext) > /dev/null || \
	($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	 --no-install-recommends $(TEX_PACKAGES) > /dev/null)

pdf: $(STAMP) tex
	$(BIN)/jupyter-book build . --builder pdflatex -n --keep-going
	$(BIN)/python tests/pdf_check.py _build/latex/book.pdf
	$(MAKE) pdf-student

pdf-student: $(STAMP) tex
	WHITENBOOK_EDITION=student $(BIN)/jupyter-book build . --builder pdflatex -n --keep-going --path-output _build/student
	rm -rf _build/student/latex && mv _build/student/_build/latex _build/student/latex
	$(BIN)/python tests/pdf_check.py _build/student/latex/book.pdf --student
