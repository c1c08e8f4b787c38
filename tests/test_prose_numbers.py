"""Every decimal number in a chapter's prose is computed: glued from a cell, or a set parameter.

The book promises that every number it quotes is computed in its chapter and checked there.
This test reads each chapter's markdown (prose, captions and alt texts; code cells are read
separately) and fails on a decimal number, such as ``0.37`` or ``8.6``, that is

* not produced by a ``{glue:text}`` role (those are removed before the scan),
* not a literal of the chapter's own code cells (a parameter the chapter sets, e.g. a
  tolerance ``eps = 0.01`` quoted as "ε = 0.01"), and
* not in the short allow-list of constants below.

Integers (sizes, years, seeds, equation and chapter numbers) are not decimals and are not
checked. Math is scanned too: a derived value typed into a formula is still a typed number.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md")) + [BOOK / "index.md"]

#: constants that are facts of mathematics or of the toolchain, not results of a computation
ALLOWED = {
    "0.5",  # one half, written as a decimal (exponents, slopes of sqrt)
    "3.11",  # the Python version the book runs on
}

DECIMAL = re.compile(r"(?<![\w.\\])(\d+\.\d+)(?![\w.]*\d)")
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
ROLES = re.compile(r"\{(glue:text|glue|eq|numref|ref|doc|prf:ref|cite:[tp]|download)\}`[^`]*`")
LABELS = re.compile(r"^\s*:(label|name|tags|class)\b.*$|^\(.*\)=\s*$", re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def split(text: str) -> tuple[str, str]:
    """(prose, code) of a MyST notebook: code cells apart, glue and reference roles removed."""
    text = FRONT_MATTER.sub("", text)
    code = "\n".join(CODE_CELL.findall(text))
    prose = CODE_CELL.sub("", text)
    prose = ROLES.sub(" ", prose)
    prose = LABELS.sub("", prose)
    return prose, code


def literals(code: str) -> set[str]:
    """Decimal literals of the code cells, normalized like the prose (0.50 -> 0.5)."""
    return {_norm(x) for x in re.findall(r"(?<![\w.])\d+\.\d+(?:[eE][+-]?\d+)?", code)} | {
        _norm(x) for x in re.findall(r"(?<![\w.])\d+\.\d+", code)
    }


def _norm(x: str) -> str:
    try:
        v = float(x)
    except ValueError:
        return x
    return repr(v)


def untraced_numbers(path) -> list[tuple[int, str, str]]:
    """(line, number, line text) of every decimal in the prose that is neither glued nor set."""
    text = path.read_text()
    prose, code = split(text)
    known = literals(code) | {_norm(a) for a in ALLOWED}
    found = []
    for lineno, line in enumerate(prose.splitlines(), 1):
        scan = INLINE_CODE.sub(
            lambda m: m.group(0) if re.search(r"\d\.\d", m.group(0)) else " ", line
        )
        for m in DECIMAL.finditer(scan):
            if _norm(m.group(1)) not in known:
                found.append((lineno, m.group(1), line.strip()[:120]))
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_decimal_in_the_prose_is_computed(chapter):
    found = untraced_numbers(chapter)
    assert not found, f"{chapter.name}: decimals neither glued nor set in code:\n" + "\n".join(
        f"  {n!r} in: {line}" for _, n, line in found
    )


def test_the_scan_catches_a_typed_number(tmp_path):
    page = tmp_path / "99_probe.md"
    page.write_text(
        "---\njupytext:\n  format_version: 0.13\n---\n# Probe\n\n"
        "```{code-cell} ipython3\neps = 0.01\nglue('x', float(0.123), display=False)\n```\n\n"
        "With $\\varepsilon = 0.01$ the time is {glue:text}`x:.3f`, about 8.6 times longer.\n\n"
        "```{glue:figure} fig\n:alt: errors fall to about 0.25\n\nCaption.\n```\n"
    )
    assert [n for _, n, _ in untraced_numbers(page)] == ["8.6", "0.25"]
