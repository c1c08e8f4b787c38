"""The book's own Sphinx extension: only what no existing extension does.

- **Notebooks and Colab.** Each notebook page offers ``_sources/<page>.ipynb`` (jupytext's, with
  a first cell installing the library on Colab only), which the Colab button opens from the
  published branch (Colab cannot open the ``.md``).
- **The student edition.** ``WHITENBOOK_EDITION=student`` sets ``hide_solutions`` and removes each
  gated solution whole, from pages and notebooks; sphinx-exercise drops only its start node, then
  fails on its end node: https://github.com/executablebooks/sphinx-exercise/issues/89
- **Code links in exercises.** sphinx-codeautolink pops a title for every section it leaves;
  sphinx-exercise's bodies are sections without one.
- **A clean browser console**: the theme's inline scripts kept once, a default colour mode.
- **The PDF.** References to another chapter's exercise get their number in LaTeX.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_codeautolink.extension.block import CodeBlockAnalyser
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node, solution_node

EDITION_ENV = "WHITENBOOK_EDITION"
EDITIONS = ("full", "student")

COLAB_CELL = '''\
# Runs only on Google Colab: installs the book's library and what the chapters import.
# Everywhere else (Binder, a local clone) the library is already installed: this cell does nothing.
import sys
if "google.colab" in sys.modules:
    %pip install --quiet {requirements}'''

_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*\{([\w:-]+)\}")


def on_config_inited(app: Sphinx, config) -> None:
    """The edition, from WHITENBOOK_EDITION; the student edition hides every solution."""
    edition = os.environ.get(EDITION_ENV) or config.whitenbook_edition
    if edition not in EDITIONS:
        raise ExtensionError(f"{EDITION_ENV} must be one of {EDITIONS}, got {edition!r}.")
    config.whitenbook_edition = edition
    config.hide_solutions = edition == "student"


def is_notebook_page(app: Sphinx, pagename: str) -> bool:
    """A page is a notebook when its source is MyST markdown with a kernelspec."""
    return (pagename in app.env.all_docs
            and "kernelspec" in app.env.metadata.get(pagename, {})
            and str(app.env.doc2path(pagename)).endswith(".md"))


def colab_requirements(lock: Path, repository: str, branch: str) -> str:
    """What the Colab cell installs: myst-nb as locked, the library from the repository."""
    text = lock.read_text() if lock.is_file() else ""
    pins = dict(line.split("==", 1) for line in text.splitlines() if "==" in line)
    reqs = [f"myst-nb=={pins['myst-nb'].strip()}" if "myst-nb" in pins else "myst-nb"]
    reqs.append(f"whitenlib @ git+{repository}@{branch}" if repository else "whitenlib")
    return " ".join(f'"{r}"' for r in reqs)


def strip_solutions(text: str) -> str:
    """A MyST page without its solutions: gated ones whole (code cells included), plain ones too."""
    kept, gated, closing = [], False, None  # closing: the fence ending a directive we drop
    for line in text.splitlines():
        match = _FENCE.match(line)
        if closing is not None:
            closing = None if line.strip() == closing else closing
        elif match and match.group(2) in ("solution-start", "solution", "solution-end"):
            closing = match.group(1)
            if gated == "code" and match.group(2) == "solution-end":
                kept.append("+++")  # the text around a dropped code cell stays two cells
            gated = {"solution-start": True, "solution-end": False}.get(match.group(2), gated)
        elif not gated:
            kept.append(line)
        elif match and match.group(2) == "code-cell":
            gated = "code"
    return "\n".join(kept) + "\n"


def make_notebook(source: Path, requirements: str, student: bool) -> nbformat.NotebookNode:
    """The downloadable notebook of one page: jupytext's conversion plus the Colab cell."""
    text = Path(source).read_text(encoding="utf-8")
    nb = jupytext.reads(strip_solutions(text) if student else text, fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    nb.metadata.update(language_info={"name": "python"}, kernelspec=dict(
        display_name="Python 3", language="python", name="python3"))
    nb.cells.insert(0, nbformat.v4.new_code_cell(COLAB_CELL.format(requirements=requirements),
                                                 metadata={"tags": ["colab-install"]}))
    for i, cell in enumerate(nb.cells):  # stable, valid cell ids (nbformat 4.5)
        cell["id"] = f"cell-{i}"
    nbformat.validate(nb)
    return nb


def colab_url(colab: str, repository: str, branch: str, pagename: str) -> str | None:
    """Colab's URL of the page's notebook as published with the site (repository on GitHub)."""
    if not colab or "github.com/" not in repository:
        return None
    org, name = repository.split("github.com/")[-1].strip("/").split("/")[:2]
    return f"{colab.rstrip('/')}/github/{org}/{name}/blob/{branch}/_sources/{pagename}.ipynb"


def offer_notebook(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Before the theme builds its download menu (priority 501): offer the page's notebook."""
    if app.builder.format == "html" and is_notebook_page(app, pagename):
        context["ipynb_source"] = pagename + ".ipynb"


def fix_page(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """After the theme's buttons: point Colab at the published notebook, clean the scripts."""
    if app.builder.format != "html":
        return
    clean_page_scripts(context)
    opts = app.config.html_theme_options
    url = colab_url(opts.get("launch_buttons", {}).get("colab_url", ""),
                    opts.get("repository_url", ""), app.config.whitenbook_pages_branch, pagename)
    buttons = [b for g in context.get("header_buttons", []) if g.get("label") == "launch-buttons"
               for b in g.get("buttons", []) if b.get("text") == "Colab"]
    for button in buttons if url and is_notebook_page(app, pagename) else []:
        button["url"] = url


def clean_page_scripts(context: dict) -> None:
    """Keep each inline script once (thebe's, registered with filename None and "", throws
    "Identifier 'THEBE_JS_URL' has already been declared"); default to the system's colour
    mode (else pydata-sphinx-theme logs "Got invalid theme mode" on a first visit)."""
    unique = {}
    for js in context.get("script_files", []):
        attributes = json.dumps(getattr(js, "attributes", {}), sort_keys=True, default=str)
        unique.setdefault((getattr(js, "filename", str(js)) or "", attributes), js)
    context["script_files"] = list(unique.values())
    context["default_mode"] = context.get("default_mode") or "auto"


def write_notebooks(app: Sphinx, exception) -> None:
    """After the pages: write each notebook page's .ipynb into _sources/ (over the theme's)."""
    if exception is not None or app.builder.format != "html":
        return
    opts = app.config.html_theme_options
    requirements = colab_requirements(Path(app.srcdir, "requirements.lock"), opts.get(
        "repository_url", ""), opts.get("repository_branch", "main"))
    for pagename in sorted(p for p in app.env.all_docs if is_notebook_page(app, p)):
        out = Path(app.outdir, "_sources", *f"{pagename}.ipynb".split("/"))
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(Path(app.env.doc2path(pagename)), requirements,
                                     student=app.config.whitenbook_edition == "student"), str(out))


class HiddenSolutionStart(nodes.Element):
    """Where a gated solution began, when solutions are hidden."""


class HiddenAwareSolutionStart(SolutionStartDirective):
    """sphinx-exercise's solution-start, leaving a marker where it returns nothing (issue #89)."""

    def run(self):
        hidden = [HiddenSolutionStart()] if self.env.app.config.hide_solutions else []
        return super().run() or hidden


class RemoveHiddenSolutions(SphinxTransform):
    """Under hide_solutions, remove each gated solution, from its marker to its solution-end."""

    default_priority = 5  # before sphinx-exercise checks and merges the gated directives

    def apply(self):
        for marker in list(self.document.findall(HiddenSolutionStart)):
            body, start = marker.parent, marker.parent.index(marker)
            ends = [i for i in range(start, len(body)) if isinstance(body[i], solution_end_node)]
            if not ends:
                raise ExtensionError(f"{self.env.docname}: solution-start without solution-end")
            del body.children[start : ends[0] + 1]


def check_no_solutions(app: Sphinx, doctree, docname) -> None:
    """Student edition: warn (an error under -W) if any solution survived on a page."""
    if app.config.whitenbook_edition == "student" and any(doctree.findall(solution_node)):
        logging.getLogger(__name__).warning(
            f"[whitenbook] a solution remains in the student edition: {docname}", location=docname)


def codeautolink_titleless_sections() -> None:
    """Let sphinx-codeautolink walk sections without a title (sphinx-exercise's bodies)."""
    visit = CodeBlockAnalyser.visit_section
    if getattr(visit, "whitenbook", False):
        return

    def visit_section(self, node):
        visit(self, node)
        if not (node.children and isinstance(node[0], nodes.title)):
            self.title_stack.append("")  # popped by depart_section, as a title would be

    visit_section.whitenbook = True
    CodeBlockAnalyser.visit_section = visit_section


def fix_latex_exercise_refs(app: Sphinx, exception) -> None:
    """The PDF: every reference to an exercise resolves, by the number its heading shows.

    sphinx-exercise labels an exercise ``exercise:<label>`` in LaTeX and writes its number
    into the heading, but references from any page but the exercise's own point at
    ``<docname>:<label>`` and ask LaTeX for ``\\ref`` of it, which LaTeX never defines
    ("Exercise ??"). Point them at the exercise and write the heading's number.
    """
    if exception is not None or app.builder.format != "latex":
        return
    heading = (r"\\label\{exercise:([^}]+)\}\s*"
               r"\\begin\{sphinxadmonition\}\{note\}\{(Exercise [\d.]+)")
    for tex in Path(app.outdir).glob("*.tex"):
        text = tex.read_text(encoding="utf-8")
        numbers = dict(re.findall(heading, text))
        if not numbers:
            continue
        labels = "|".join(map(re.escape, numbers))
        text = re.sub(r"Exercise \\ref\{\\detokenize\{[^}]*:(" + labels + r")\}\}",
                      lambda m, numbers=numbers: numbers[m.group(1)], text)
        text = re.sub(r"\\hyperref\[\\detokenize\{[^}]*:(" + labels + r")\}\]",
                      lambda m: f"\\hyperref[exercise:{m.group(1)}]", text)
        tex.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("whitenbook_edition", "full", "env")
    app.add_config_value("whitenbook_pages_branch", "gh-pages", "html")
    app.connect("config-inited", on_config_inited)
    app.connect("html-page-context", offer_notebook, priority=500)
    app.connect("html-page-context", fix_page, priority=900)
    app.connect("build-finished", write_notebooks)
    app.connect("build-finished", fix_latex_exercise_refs)
    app.connect("doctree-resolved", check_no_solutions)
    app.add_node(HiddenSolutionStart)
    app.add_directive("solution-start", HiddenAwareSolutionStart, override=True)
    app.add_transform(RemoveHiddenSolutions)
    codeautolink_titleless_sections()
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
