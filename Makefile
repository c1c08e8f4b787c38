# Two commands for readers: `make book` and `make test`. Both create or reuse .venv
# from requirements.lock (the one tested set of versions) on a machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WHITENLIB_JAX_CACHE := $(CURDIR)/_build/jax-cache
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test unit chapters clean env mathjax book-student check-site check-notebooks

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

## book: execute every chapter and build the HTML (warnings are errors) into _build/html
book: $(STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . --all --builder html -W -n --keep-going
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

## book-student: the student edition, every exercise and no solution, into _build/student/html
## (reuses the outputs of the last `make book` that are newer than their chapter and the library)
book-student: $(STAMP) $(MATHJAX)
	WHITENBOOK_EDITION=student $(BIN)/jupyter-book build . --builder html -W -n --keep-going --path-output _build/student
	rm -rf _build/student/html && mv _build/student/_build/html _build/student/html
	@echo "Open _build/student/html/index.html in a browser."

## check-site: both built sites in Debian's Chromium driven by Playwright (after book, book-student);
## screenshots of every page go to _build/screenshots/
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
check-site: $(STAMP)
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null)
	$(BIN)/python tests/site_check.py --site _build/html --student _build/student/html

## check-notebooks: every chapter's notebook, downloaded from the served site, executed with nbconvert
check-notebooks: $(STAMP)
	$(BIN)/python tests/site_check.py --site _build/html --execute-notebooks

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
