"""The book's own Sphinx extension: what readers, students and teachers get from the site.

- **Notebooks to download.** Every page that is a notebook (a MyST ``.md`` with a
  kernelspec) gets ``_sources/<page>.ipynb`` in the HTML output, made with jupytext
  from the ``.md`` source, and the theme's download menu links to it. Its first
  cell installs the library when the notebook runs on Google Colab and does
  nothing anywhere else. The Colab launch button opens that notebook from the
  branch the site is published from.
- **MathJax without a network.** When ``make mathjax`` has unpacked MathJax under
  ``_build/mathjax/``, the site serves it from ``_static/mathjax/`` instead of a CDN.
- **The student edition.** ``WHITENBOOK_EDITION=student`` (``make book-student``)
  switches on sphinx-exercise's ``hide_solutions``, removes the gated solutions
  (``solution-start`` … ``solution-end``, code cells included) from the pages and
  the notebooks, and reuses the outputs of the last full build instead of executing
  every chapter again.
- **The PDF.** ``make pdf`` (LaTeX builder) reuses the executed outputs like the student
  edition, and references to another chapter's exercise get their number.
- **The API reference.** The ``whitenlib-api`` directive documents the modules it
  lists, one per line, and warns about public modules it does not list. Each chapter
  ends with links to the library functions its code cells call (``wl.<name>``).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pkgutil
import re
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.utils import new_document
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOGGER = logging.getLogger(__name__)

EDITION_ENV = "WHITENBOOK_EDITION"
EDITIONS = ("full", "student")

# ------------------------------------------------------------------ notebooks

COLAB_CELL = '''\
# Runs only on Google Colab: installs the book's library and what the chapters import.
# Everywhere else (Binder, a local clone) the library is already installed and this cell does nothing.
import sys
if "google.colab" in sys.modules:
    %pip install --quiet {requirements}'''

_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*\{([\w:-]+)\}")


def _is_notebook_page(app: Sphinx, pagename: str) -> bool:
    """A page is a notebook when its source is MyST markdown with a kernelspec."""
    if pagename not in app.env.all_docs:
        return False
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return False
    return str(app.env.doc2path(pagename)).endswith(".md")


def _colab_requirements(app: Sphinx) -> str:
    """What the Colab cell installs: the library from the repository, myst-nb as pinned."""
    pins = {}
    lock = Path(app.srcdir, "requirements.lock")
    if lock.exists():
        for line in lock.read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name, version = line.split("==", 1)
                pins[name.strip().lower()] = version.strip()
    reqs = [f"myst-nb=={pins['myst-nb']}" if "myst-nb" in pins else "myst-nb"]
    repo = app.config.html_theme_options.get("repository_url", "")
    branch = app.config.html_theme_options.get("repository_branch", "main")
    if repo:
        reqs.append(f"whitenlib @ git+{repo}@{branch}")
    else:
        reqs.append("whitenlib")
    return " ".join(f'"{r}"' for r in reqs)


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove every solution (gated or not) from a notebook made from a MyST page.

    Gated solutions span cells: the text from the ``{solution-start}`` fence to the
    closing fence of ``{solution-end}`` goes, with every code cell in between.
    """
    nb = copy.deepcopy(nb)
    cells = []
    in_gated = False  # between solution-start and the end of solution-end
    closing = None  # fence that closes the block we are skipping
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if not in_gated and closing is None:
                cells.append(cell)
            continue
        kept = []
        for line in cell.source.splitlines():
            if closing is not None:  # inside a directive block we drop whole
                if line.strip() == closing:
                    closing = None
                continue
            match = _FENCE.match(line)
            name = match.group(2) if match else None
            if name in ("solution-start", "solution", "solution-end"):
                fence = match.group(1)
                closing = fence
                if name == "solution-start":
                    in_gated = True
                elif name == "solution-end":
                    in_gated = False
                continue
            if not in_gated:
                kept.append(line)
        cell.source = "\n".join(kept).strip("\n")
        if cell.source.strip():
            cells.append(cell)
    nb.cells = cells
    return nb


def make_notebook(app: Sphinx, pagename: str) -> nbformat.NotebookNode:
    """The downloadable notebook of one page: jupytext's conversion plus the Colab cell."""
    import jupytext

    nb = jupytext.read(str(app.env.doc2path(pagename)))
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    if app.config.whitenbook_edition == "student":
        nb = strip_solutions(nb)
    cell = nbformat.v4.new_code_cell(
        COLAB_CELL.format(requirements=_colab_requirements(app)),
        metadata={"tags": ["colab-install"]},
    )
    nb.cells.insert(0, cell)
    for i, c in enumerate(nb.cells):  # stable, valid cell ids (nbformat 4.5)
        c["id"] = f"cell-{i}"
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def set_notebook_download(app, pagename, templatename, context, doctree):
    """Before the theme builds its download menu: offer the page's notebook."""
    if app.builder.format != "html" or not _is_notebook_page(app, pagename):
        return
    context["ipynb_source"] = pagename + ".ipynb"
    app.env.whitenbook_notebook_pages = getattr(app.env, "whitenbook_notebook_pages", set())
    app.env.whitenbook_notebook_pages.add(pagename)


def fix_launch_buttons(app, pagename, templatename, context, doctree):
    """Point the Colab button at the notebook published with the site (Colab cannot open .md)."""
    if app.builder.format != "html" or not _is_notebook_page(app, pagename):
        return
    opts = app.config.html_theme_options
    colab = opts.get("launch_buttons", {}).get("colab_url", "").rstrip("/")
    repo = opts.get("repository_url", "")
    if not colab or "github.com/" not in repo:
        return
    org, name = repo.split("github.com/")[-1].strip("/").split("/")[:2]
    branch = app.config.whitenbook_pages_branch
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = f"{colab}/github/{org}/{name}/blob/{branch}/_sources/{pagename}.ipynb"


def clean_page_scripts(app, pagename, templatename, context, doctree):
    """Two fixes of the theme's pages, so that a reader's browser logs no error.

    - inline scripts (sphinx-thebe's configuration, togglebutton's) are registered twice,
      once with filename None and once with "", and the second thebe copy throws "Identifier 'THEBE_JS_URL' has already been declared": keep one copy.
    - pydata-sphinx-theme logs "Got invalid theme mode" on a first visit unless a
      default colour mode is set: follow the reader's system setting ("auto").
    """
    if app.builder.format != "html":
        return
    seen, scripts = set(), []
    for js in context.get("script_files", []):
        key = (getattr(js, "filename", str(js)) or "", json.dumps(getattr(js, "attributes", {}), sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            scripts.append(js)
    context["script_files"] = scripts
    context["default_mode"] = context.get("default_mode") or "auto"


def write_notebooks(app: Sphinx, exception) -> None:
    """After the pages: write every notebook page's .ipynb into _sources/ (over the theme's copy)."""
    if exception is not None or app.builder.format != "html":
        return
    pages = sorted(getattr(app.env, "whitenbook_notebook_pages", set()))
    for pagename in pages:
        out = Path(app.outdir, "_sources", *f"{pagename}.ipynb".split("/"))
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(app, pagename), str(out))
    LOGGER.info(f"[whitenbook] wrote {len(pages)} notebooks under _sources/")


# ------------------------------------------------------------------ MathJax, editions


def on_config_inited(app: Sphinx, config) -> None:
    edition = os.environ.get(EDITION_ENV, config.whitenbook_edition) or "full"
    if edition not in EDITIONS:
        raise ExtensionError(f"{EDITION_ENV} must be one of {EDITIONS}, got {edition!r}.")
    config.whitenbook_edition = edition
    if edition == "student":
        config.hide_solutions = True
        config.nb_execution_mode = "cache"  # outputs of the last full build (see below)

    mathjax = Path(app.srcdir, config.whitenbook_mathjax_dir)
    if (mathjax / "mathjax" / "tex-chtml.js").exists():
        config.mathjax_path = "mathjax/tex-chtml.js"  # relative to _static/
        config.html_static_path = [*config.html_static_path, str(mathjax.resolve())]
    else:
        LOGGER.info(
            f"[whitenbook] no MathJax under {mathjax}: maths loads MathJax from its CDN "
            "(`make mathjax` installs a local copy)."
        )


def seed_student_cache(app: Sphinx) -> None:
    """Student edition: fill its execution cache with the full build's executed notebooks.

    A notebook is reused only if it is newer than its source and than the library, and
    jupyter-cache matches it to the page by its code cells; anything else executes.
    """
    # The PDF (`make pdf`, LaTeX builder) reuses the outputs the same way when the book
    # would otherwise execute every chapter again (a build with a shared cache reuses that).
    pdf = app.builder.format == "latex" and app.config.nb_execution_mode == "force"
    if pdf:
        app.config.nb_execution_mode = "cache"
    if app.config.whitenbook_edition != "student" and not pdf:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    executed = Path(app.srcdir, "_build", "jupyter_execute")
    if not executed.is_dir():
        return
    library = max((p.stat().st_mtime for p in Path(app.srcdir, "whitenlib").glob("*.py")), default=0)
    cache = get_cache(str(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"))
    seeded = 0
    for path in executed.rglob("*.ipynb"):
        source = Path(app.srcdir, path.relative_to(executed)).with_suffix(".md")
        mtime = path.stat().st_mtime
        if not source.exists() or mtime < source.stat().st_mtime or mtime < library:
            continue
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        # myst-nb moved the hidden glue outputs (glue(..., display=False)) to <page>.glue.json:
        # put them back so that this build finds them where the kernel left them
        glue = path.with_name(path.name[: -len(".ipynb")] + ".glue.json")
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        if glue.exists() and code:
            for output in json.loads(glue.read_text()).values():
                prefix = output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
                if prefix:
                    output["data"] = {prefix + k: v for k, v in output["data"].items()}
                    code[-1].outputs.append(nbformat.from_dict(output))
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(source)), check_validity=False, overwrite=True)
        seeded += 1
    LOGGER.info(f"[whitenbook] {'the PDF' if pdf else 'student edition'} reuses {seeded} executed notebooks")


class _HiddenSolutionStart(nodes.Element):
    """Marks where a gated solution began when solutions are hidden."""


def _make_solution_start_directive(base):
    class HiddenAwareSolutionStart(base):
        """sphinx-exercise's solution-start, which under hide_solutions leaves a marker.

        sphinx-exercise drops only the solution-start node itself when solutions are
        hidden, so the solution's body and code cells would stay on the page; the marker
        lets `RemoveHiddenSolutions` remove everything up to solution-end.
        """

        def run(self):
            result = super().run()
            if self.env.app.config.hide_solutions and not result:
                return [_HiddenSolutionStart()]
            return result

    return HiddenAwareSolutionStart


class RemoveHiddenSolutions(SphinxTransform):
    """Under hide_solutions, remove each gated solution's content and its end marker."""

    default_priority = 5  # before sphinx-exercise checks and merges the gated directives

    def apply(self):
        if not self.config.hide_solutions:
            return
        from sphinx_exercise.nodes import solution_end_node

        for marker in list(self.document.findall(_HiddenSolutionStart)):
            parent = marker.parent
            start = parent.index(marker)
            end = next(
                (i for i in range(start, len(parent.children)) if isinstance(parent[i], solution_end_node)),
                None,
            )
            if end is None:
                raise ExtensionError(f"{self.env.docname}: solution-start without solution-end")
            for child in parent.children[start : end + 1]:
                parent.remove(child)


def check_no_solutions(app: Sphinx, doctree, docname) -> None:
    """Student edition: fail loudly if any solution survived on a page."""
    if app.config.whitenbook_edition != "student":
        return
    from sphinx_exercise.nodes import solution_node

    if any(True for _ in doctree.findall(solution_node)):
        LOGGER.warning(f"[whitenbook] a solution remains in the student edition of {docname}", location=docname)


# ------------------------------------------------------------------ API reference


class WhitenlibApi(SphinxDirective):
    """Document the listed modules of the package, one module name per content line.

    Each module gets a section with a summary table of its public functions and
    classes, then their full documentation (autodoc). A public module of the package
    that is not listed is a warning, so a new module cannot go undocumented.
    """

    has_content = True
    required_arguments = 1  # the package

    def run(self):
        from myst_parser.mocking import MockRSTParser

        package = self.arguments[0]
        modules = [m.strip() for m in self.content if m.strip() and not m.strip().startswith("#")]
        pkg = importlib.import_module(package)
        public = {m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")}
        for name in sorted(public - set(modules)):
            LOGGER.warning(f"[whitenbook] module {package}.{name} is missing from the API page",
                           location=(self.env.docname, self.lineno))
        for name in sorted(set(modules) - public):  # listed ahead of its arrival: skipped
            LOGGER.info(f"[whitenbook] API page lists {package}.{name}, which does not exist (yet)")

        lines = []
        for name in modules:
            if name not in public:
                continue
            full = f"{package}.{name}"
            module = importlib.import_module(full)
            title = f"``{full}``"
            lines += [f".. _api-{package}-{name}:", "", title, "-" * len(title), ""]
            members = [
                member for member, obj in inspect.getmembers(module)
                if not member.startswith("_")
                and (inspect.isfunction(obj) or inspect.isclass(obj) or callable(obj))
                and getattr(inspect.unwrap(obj), "__module__", None) == full
            ]
            if members:  # summaries' short references (:func:`f`) resolve in the module
                lines += [f".. currentmodule:: {full}", "", ".. autosummary::", "   :nosignatures:", ""]
                lines += [f"   {m}" for m in members] + [""]
            lines += [f".. automodule:: {full}", "   :members:", "   :undoc-members:",
                      "   :inherited-members:", "   :member-order: bysource", ""]
        newdoc = new_document(self.state.document["source"], self.state.document.settings)
        newdoc.reporter = self.state.document.reporter
        pad = "\n" * max(self.lineno - 1, 0)
        MockRSTParser().parse(pad + "\n".join(lines), newdoc)
        for node in newdoc:
            if node["names"]:
                self.state.document.note_explicit_target(node, node)
        return newdoc.children


_LITERAL = re.compile(r"(``.+?``)")
_ROLE = re.compile(r":[\w:]+:`([^`]*)`")
_BENIGN = re.compile(r"Unknown (interpreted text role|directive type)|No role entry|No directive entry")


def _escape_pipes(line: str) -> str:
    """`|x|` means an absolute value in the library's docstrings, not an rST substitution."""
    if line.lstrip().startswith(("|", "+")):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if p.startswith("``") else re.sub(r"(?<!\\)\|", r"\\|", p) for p in parts)


def _rst_problems(text: str) -> list[str]:
    """docutils' warnings and errors about a docstring (Sphinx-only roles/directives aside)."""
    import io

    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives, roles

    # no directive or role runs (Sphinx's would need, and change, the build environment):
    # each counts as unknown, which is benign here; the layout is what is checked
    saved = directives.directive, roles.role
    directives.directive = lambda *args, **kwargs: (None, [])
    roles.role = lambda *args, **kwargs: (None, [])
    try:
        doctree = publish_doctree(
            _ROLE.sub(r"``\1``", text),
            settings_overrides={"report_level": 5, "halt_level": 5, "warning_stream": io.StringIO()},
        )
    finally:
        directives.directive, roles.role = saved
    return [
        msg.astext() for msg in doctree.findall(nodes.system_message)
        if msg["level"] >= 2 and not _BENIGN.search(msg.astext())
    ]


def _escape_inline(line: str) -> str:
    """Backslash-escape inline markup (``*``, ``_``) outside literals and roles."""
    parts = re.split(r"(``.+?``|:[\w:]+:`[^`]*`)", line)
    return "".join(p if p.startswith(("``", ":")) else re.sub(r"(?<!\\)([*_])", r"\\\1", p) for p in parts)


def _preformatted(lines: list[str]) -> list[str]:
    plain = [_ROLE.sub(r"\1", line).replace("``", "").replace("\\|", "|") for line in lines]
    while plain and not plain[0].strip():
        plain.pop(0)
    return ["::", ""] + ["    " + line if line.strip() else "" for line in plain] + [""] if plain else []


PYTREE_PLUMBING = {"tree_flatten", "tree_unflatten"}


def skip_plumbing(app, what, name, obj, skip, options):
    """Leave JAX's pytree protocol methods out of the API reference."""
    return True if name in PYTREE_PLUMBING else None


def plain_text_docstrings(app, what, name, obj, options, lines) -> None:
    """Docstrings of whitenlib are written to read well as plain text (``help()``).

    Absolute values ``|x|`` are escaped. A docstring whose layout is not valid
    reStructuredText (formulas aligned in columns, ``*shape``) keeps its first
    paragraph as text, with inline markup escaped, and shows the rest as it is
    written, preformatted, instead of failing the build.
    """
    if not name.startswith(app.config.whitenbook_api_package):
        return
    lines[:] = [_escape_pipes(line) for line in lines]
    if not _rst_problems("\n".join(lines)):
        return
    first = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    head = [_escape_inline(line) for line in lines[:first]]
    for fixed in (head + lines[first:], head + [""] + _preformatted(lines[first:]), _preformatted(lines)):
        if not _rst_problems("\n".join(fixed)):
            break
    lines[:] = fixed


_WL_USE = re.compile(r"(?<![\w.])wl\.([A-Za-z]\w*(?:\.[A-Za-z]\w*)*)")


def _canonical(package: str, dotted: str):
    """`wl.<dotted>` → (role target, is_module) of the object it names, or None."""
    obj = importlib.import_module(package)
    owner = None  # the last public class on the way: methods are documented under it
    for part in dotted.split("."):
        if inspect.isclass(obj):
            owner = obj
        if not hasattr(obj, part) and inspect.ismodule(obj):
            try:  # a submodule not imported by its package's __init__
                importlib.import_module(f"{obj.__name__}.{part}")
            except ImportError:
                return None
        if not hasattr(obj, part):
            return None
        obj = getattr(obj, part)
        if not inspect.ismodule(obj) and not (inspect.isclass(obj) or callable(obj)):
            return None
    if inspect.ismodule(obj):
        return (obj.__name__, True) if obj.__name__.startswith(package + ".") else None
    if owner is not None and not inspect.isclass(obj):
        name = f"{owner.__module__}.{owner.__qualname__}.{dotted.split('.')[-1]}"
        return (name, False) if owner.__module__.startswith(package + ".") else None
    target = inspect.unwrap(obj)
    module = getattr(target, "__module__", "") or ""
    qualname = getattr(target, "__qualname__", "")
    if not module.startswith(package + ".") or not qualname or "<" in qualname:
        return None
    if any(part.startswith("_") for part in qualname.split(".")):
        return None
    return f"{module}.{qualname}", False


def add_library_links(app: Sphinx, doctree) -> None:
    """End each chapter with links to the library functions its code cells call."""
    docname = app.env.docname
    api = app.config.whitenbook_api_page
    if not api or api not in app.env.found_docs or docname == api or not _is_notebook_page_source(app, docname):
        return
    import jupytext

    nb = jupytext.read(str(app.env.doc2path(docname)))
    package = app.config.whitenbook_api_package
    seen = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for match in _WL_USE.finditer(cell.source):
            found = _canonical(package, match.group(1))
            if found and found[0] not in seen:
                seen[found[0]] = found[1]
    if not seen:
        return
    sections = [n for n in doctree.children if isinstance(n, nodes.section)]
    if not sections:
        return
    section = nodes.section(ids=["library-functions-used"], names=["library functions used"])
    section += nodes.title(text="Library functions used")
    para = nodes.paragraph()
    para += nodes.Text("The code cells of this page call these parts of whitenlib (see the ")
    api_ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget="/" + api,
                                    refexplicit=True, refwarn=True, refdoc=docname)
    api_ref += nodes.inline(text="API reference")
    para += api_ref
    para += nodes.Text("): ")
    for i, (target, is_module) in enumerate(sorted(seen.items())):
        if i:
            para += nodes.Text(", ")
        ref = addnodes.pending_xref(
            "", refdomain="py", reftype="mod" if is_module else "obj", reftarget=target,
            refexplicit=True, refwarn=True, refdoc=docname,
        )
        ref += nodes.literal(text=target, classes=["xref", "py"])
        para += ref
    para += nodes.Text(".")
    section += para
    sections[-1] += section


def _is_notebook_page_source(app: Sphinx, docname: str) -> bool:
    path = str(app.env.doc2path(docname))
    return path.endswith(".md") and "kernelspec" in app.env.metadata.get(docname, {})


# ------------------------------------------------------------------ exercise index


class exercise_index(nodes.General, nodes.Element):
    """Placeholder for the list of every exercise, filled once all pages are read."""


class ExerciseIndex(SphinxDirective):
    """``{whitenbook-exercises}``: a list of every exercise of the book, chapter by chapter."""

    def run(self):
        pages = getattr(self.env, "whitenbook_exercise_pages", set())
        pages.add(self.env.docname)
        self.env.whitenbook_exercise_pages = pages
        return [exercise_index()]


def _exercise_pages_outdated(app, env, added, changed, removed):
    """The exercise list depends on every chapter: rewrite its page whenever any page changes."""
    if not (added or changed or removed):
        return []
    return sorted(p for p in getattr(env, "whitenbook_exercise_pages", set()) if p in env.found_docs)


def _purge_exercise_page(app, env, docname):
    getattr(env, "whitenbook_exercise_pages", set()).discard(docname)


def _toc_order(env) -> list[str]:
    order, stack = [], [env.config.root_doc]
    while stack:
        doc = stack.pop(0)
        if doc in order:
            continue
        order.append(doc)
        stack[0:0] = env.toctree_includes.get(doc, [])
    return order


def _exercise_title(info) -> str:
    """The exercise's own title, if it has one (gated exercises often have none)."""
    node = info.get("node")
    title = node.get("title", "") if node is not None else ""
    title = str(title).strip()
    return "" if title.lower() in ("", "exercise") else title


def fill_exercise_index(app: Sphinx, doctree, docname: str) -> None:
    placeholders = list(doctree.findall(exercise_index))
    if not placeholders:
        return
    env = app.env
    registry = getattr(env, "sphinx_exercise_registry", {})
    by_doc: dict[str, list[str]] = {}
    for label, info in registry.items():
        if info.get("type", "").startswith("exercise"):
            by_doc.setdefault(info["docname"], []).append(label)
    items = nodes.bullet_list()
    for doc in _toc_order(env):
        labels = by_doc.get(doc)
        if not labels:
            continue
        numbers = env.toc_fignumbers.get(doc, {}).get("exercise", {})
        labels.sort(key=lambda lb: (numbers.get(lb, (9999,)), lb))
        para = nodes.paragraph()
        chapter = nodes.reference("", "", internal=True, refuri=app.builder.get_relative_uri(docname, doc))
        chapter += nodes.Text(env.titles[doc].astext() if doc in env.titles else doc)
        para += chapter
        para += nodes.Text(": ")
        for i, label in enumerate(labels):
            if i:
                para += nodes.Text(", ")
            number = ".".join(map(str, numbers[label])) if label in numbers else label
            ref = nodes.reference("", "", internal=True,
                                  refuri=app.builder.get_relative_uri(docname, doc) + "#" + label)
            ref += nodes.Text(f"Exercise {number}")
            para += ref
            title = _exercise_title(registry[label])
            if title:
                para += nodes.Text(f" ({title})")
        items += nodes.list_item("", para)
    for node in placeholders:
        if len(items):
            node.replace_self(items.deepcopy())
        else:
            node.replace_self(nodes.paragraph(text="The chapters' exercises will be listed here."))


# ------------------------------------------------------------------ setup


def fix_latex_exercise_refs(app: Sphinx, exception) -> None:
    """The PDF: references to an exercise of another chapter resolve, by their number.

    sphinx-exercise labels an exercise ``exercise:<label>`` in LaTeX and numbers the
    references within its own chapter, but a reference from another chapter points at
    ``<docname>:<label>``, which LaTeX never defines ("Exercise ??"). Point it at the
    exercise and write the number the same .tex gives that exercise elsewhere.
    """
    if exception is not None or app.builder.format != "latex":
        return
    for tex in Path(app.outdir).glob("*.tex"):
        text = tex.read_text(encoding="utf-8")
        labels = set(re.findall(r"\\label\{exercise:([^}]+)\}", text))
        if not labels:
            continue
        target = r"\\hyperref\[\\detokenize\{[^}]*:(" + "|".join(map(re.escape, labels)) + r")\}\]"
        numbers = dict(re.findall(target + r"\{\\sphinxcrossref\{(Exercise [\d.]+)\}\}", text))
        numbers.update(re.findall(r"\\hyperref\[exercise:([^]]+)\]\{(Exercise [\d.]+)\}", text))

        def numbered(match):
            label = match.group(1)
            if label not in numbers:
                return match.group(0)  # left for the PDF check to report
            return f"\\hyperref[exercise:{label}]{{{numbers[label]}}}"

        text = re.sub(target + r"\{Exercise \\ref\{\\detokenize\{[^}]*\}\}\}", numbered, text)
        text = re.sub(target, lambda m: f"\\hyperref[exercise:{m.group(1)}]", text)
        tex.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("whitenbook_edition", "full", "env")
    app.add_config_value("whitenbook_mathjax_dir", "_build/mathjax", "html")
    app.add_config_value("whitenbook_pages_branch", "gh-pages", "html")
    app.add_config_value("whitenbook_api_page", "book/appendix/api", "env")
    app.add_config_value("whitenbook_api_package", "whitenlib", "env")

    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", seed_student_cache, priority=400)
    app.connect("html-page-context", set_notebook_download, priority=500)
    app.connect("html-page-context", fix_launch_buttons, priority=502)
    app.connect("html-page-context", clean_page_scripts, priority=900)
    app.connect("build-finished", write_notebooks)
    app.connect("build-finished", fix_latex_exercise_refs)
    app.connect("doctree-read", add_library_links, priority=400)
    app.connect("doctree-resolved", check_no_solutions)

    from sphinx_exercise.directive import SolutionStartDirective

    app.add_node(_HiddenSolutionStart)
    app.add_directive("solution-start", _make_solution_start_directive(SolutionStartDirective), override=True)
    app.add_transform(RemoveHiddenSolutions)
    app.add_directive("whitenlib-api", WhitenlibApi)
    app.add_node(exercise_index)
    app.add_directive("whitenbook-exercises", ExerciseIndex)
    app.connect("doctree-resolved", fill_exercise_index)
    app.connect("env-get-outdated", _exercise_pages_outdated)
    app.connect("env-purge-doc", _purge_exercise_page)
    app.connect("autodoc-process-docstring", plain_text_docstrings, priority=600)  # after napoleon
    app.connect("autodoc-skip-member", skip_plumbing)
    # pages and notebooks are collected on the environment in the main process only
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": False}
