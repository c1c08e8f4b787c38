"""The book's own Sphinx extension (book/_ext/whitenbook.py) and the pages it does not write.

One test per thing the extension does: the edition switch, the gated solutions removed
from the student edition (pages and notebooks), the downloadable notebook with its Colab
cell, the Colab URL, the theme's scripts kept once. And the static lists the extension
no longer generates: the API page documents every module, the teaching page lists every
exercise.
"""

from __future__ import annotations

import pkgutil
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest
from sphinx.errors import ExtensionError

from conftest import ROOT, executable_chapters

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import whitenbook as wb  # noqa: E402 - from book/_ext, as Sphinx loads it

import whitenlib  # noqa: E402

EXERCISE = """\
```{exercise-start}
:label: ex-a
```
Compute $x$.
```{exercise-end}
```
"""
GATED_SOLUTION = """\
````{solution-start} ex-a
:class: dropdown
````
The gated answer.
```{code-cell} ipython3
answer = 42
```
````{solution-end}
````
"""
PLAIN_SOLUTION = """\
```{solution} ex-a
The plain answer.
```
"""


def myst_page(tmp_path: Path) -> Path:
    page = tmp_path / "page.md"
    page.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n"
        "# Page\n\n```{code-cell} ipython3\nx = 1\n```\n\n"
        + EXERCISE + "\n" + GATED_SOLUTION + "\n" + PLAIN_SOLUTION + "\nAfter.\n"
    )
    return page


@pytest.mark.parametrize("env, hidden", [(None, False), ("full", False), ("student", True)])
def test_edition_switch(monkeypatch, env, hidden):
    if env is None:
        monkeypatch.delenv(wb.EDITION_ENV, raising=False)
    else:
        monkeypatch.setenv(wb.EDITION_ENV, env)
    config = types.SimpleNamespace(whitenbook_edition="full", hide_solutions=False)
    wb.on_config_inited(None, config)
    assert config.whitenbook_edition == (env or "full")
    assert config.hide_solutions is hidden


def test_edition_switch_rejects_unknown(monkeypatch):
    monkeypatch.setenv(wb.EDITION_ENV, "teacher")
    config = types.SimpleNamespace(whitenbook_edition="full", hide_solutions=False)
    with pytest.raises(ExtensionError, match="WHITENBOOK_EDITION"):
        wb.on_config_inited(None, config)


def test_notebook_has_colab_cell_first(tmp_path):
    nb = wb.make_notebook(myst_page(tmp_path), '"whitenlib"', student=False)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "code" and '"google.colab" in sys.modules' in first.source
    assert "%pip install --quiet \"whitenlib\"" in first.source
    text = "\n".join(c.source for c in nb.cells)
    assert "The gated answer." in text and "answer = 42" in text  # full edition keeps solutions


def test_student_notebook_has_no_solution(tmp_path):
    nb = wb.make_notebook(myst_page(tmp_path), '"whitenlib"', student=True)
    text = "\n".join(c.source for c in nb.cells)
    assert "Compute $x$." in text and "x = 1" in text and "After." in text
    for gone in ("The gated answer.", "answer = 42", "The plain answer.", "solution"):
        assert gone not in text


def test_colab_requirements_pin_myst_nb(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("jax==0.10.2\nmyst-nb==1.4.0\n")
    reqs = wb.colab_requirements(lock, "https://github.com/org/repo", "main")
    assert reqs == '"myst-nb==1.4.0" "whitenlib @ git+https://github.com/org/repo@main"'


def test_colab_url_opens_the_published_notebook():
    url = wb.colab_url("https://colab.research.google.com/", "https://github.com/org/repo",
                       "gh-pages", "book/01_whitening")
    assert url == ("https://colab.research.google.com/github/org/repo/blob/gh-pages/"
                   "_sources/book/01_whitening.ipynb")
    assert wb.colab_url("https://colab.research.google.com", "https://gitlab.com/org/repo",
                        "gh-pages", "p") is None


def test_page_scripts_kept_once():
    script = types.SimpleNamespace(filename=None, attributes={"body": "let THEBE_JS_URL = 1"})
    again = types.SimpleNamespace(filename="", attributes={"body": "let THEBE_JS_URL = 1"})
    other = types.SimpleNamespace(filename="a.js", attributes={})
    context = {"script_files": [script, other, again]}
    wb.clean_page_scripts(context)
    assert context["script_files"] == [script, other]
    assert context["default_mode"] == "auto"


@pytest.mark.parametrize("student", [False, True])
def test_gated_solutions_hidden_in_student_edition(tmp_path, monkeypatch, student):
    """sphinx-exercise issue #89: under hide_solutions a gated solution must go whole.
    And sphinx-codeautolink walks the titleless sections of sphinx-exercise."""
    from sphinx.testing.util import SphinxTestApp

    monkeypatch.setenv(wb.EDITION_ENV, "student" if student else "full")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_parser', 'sphinx_exercise', 'sphinx_codeautolink', 'whitenbook']\n"
    )
    # a code block inside the solution: sphinx-codeautolink walks sphinx-exercise's sections
    code_block = "A second paragraph.\n\n```python\nimport os\nos.getcwd()\n```"
    solution = GATED_SOLUTION.replace("```{code-cell} ipython3\nanswer = 42\n```", code_block)
    (src / "index.md").write_text("# Page\n\n" + EXERCISE + "\n" + solution + "\nAfter.\n")
    app = SphinxTestApp("html", srcdir=src, builddir=tmp_path / "out", warningiserror=True)
    try:
        app.build()
    finally:
        app.cleanup()
    html = (tmp_path / "out" / "html" / "index.html").read_text()
    assert "Compute" in html and "After." in html
    for text in ("The gated answer.", "A second paragraph."):
        assert (text in html) is not student


def test_api_pages_document_every_module():
    index = (ROOT / "book" / "appendix" / "api.md").read_text()
    pages = {p.stem: p.read_text() for p in (ROOT / "book" / "appendix" / "api").glob("*.md")}
    public = {m.name for m in pkgutil.iter_modules(whitenlib.__path__) if m.name[0] != "_"}
    assert set(pages) == public, f"no API page: {public - set(pages)}; gone: {set(pages) - public}"
    for name, page in pages.items():  # its submodules on it, linked from the index
        assert re.search(rf"^\.\. automodule:: whitenlib\.{name}$", page, flags=re.M), name
        assert f"<api/{name}>`" in index, f"the API index does not link {name}"
    sub = {m.name for m in pkgutil.iter_modules(whitenlib.networks.__path__) if m.name[0] != "_"}
    assert sub == set(re.findall(r"automodule:: whitenlib\.networks\.(\w+)", pages["networks"]))


def test_teaching_page_lists_every_exercise():
    page = (ROOT / "book" / "appendix" / "teaching.md").read_text()
    listed = re.findall(r"\{numref\}`(ex-[\w-]+)`", page)
    labels = [label for md in executable_chapters()
              for label in re.findall(r"\{exercise-start\}[^\n]*\n:label: (\S+)", md.read_text())]
    assert labels and listed == labels, "the teaching page's list of exercises is out of date"


def test_latex_exercise_references_resolve(tmp_path):
    # as the LaTeX builder writes them: the exercise's heading and a reference from another
    # page, the only one to it (left for LaTeX, which never defines the label)
    tex = tmp_path / "book.tex"
    tex.write_text(
        "\\phantomsection \\label{exercise:ex-1-4}\n\n"
        "\\begin{sphinxadmonition}{note}{Exercise 1.7.4 (Noise)}\n...\\end{sphinxadmonition}\n"
        "see "
        "\\hyperref[\\detokenize{book/01_whitening:ex-1-4}]"
        "{Exercise \\ref{\\detokenize{book/01_whitening:ex-1-4}}}, "
        "\\hyperref[\\detokenize{book/02_networks:fig-a}]"
        "{Figure \\ref{\\detokenize{book/02_networks:fig-a}}}\n",
        encoding="utf-8",
    )
    app = types.SimpleNamespace(builder=types.SimpleNamespace(format="latex"), outdir=str(tmp_path))
    wb.fix_latex_exercise_refs(app, None)
    text = tex.read_text(encoding="utf-8")
    assert "see \\hyperref[exercise:ex-1-4]{Exercise 1.7.4}," in text
    assert "\\ref{\\detokenize{book/01_whitening:ex-1-4}}" not in text
    # references to anything but an exercise are LaTeX's own business
    assert "Figure \\ref{\\detokenize{book/02_networks:fig-a}}" in text
