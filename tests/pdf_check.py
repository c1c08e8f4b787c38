"""The book as one PDF (`make pdf`): what a reader of the printed copy must find in it.

Reads the PDF's text with ``pdftotext`` (poppler-utils) and the LaTeX log beside it:

- no unresolved reference: no "??" in the text, no undefined reference or citation in the log;
- numbered chapters, each chapter of ``_toc.yml``'s numbered parts, in order;
- numbered theorems (propositions...), equations and figures, referred to by number;
- the bibliography, with the arXiv ids and DOIs of its entries;
- the full edition has the solutions, the student edition (``--student``) none.

Usage: python tests/pdf_check.py _build/latex/book.pdf [--student]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def numbered_chapter_titles(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """The titles (first heading) of the chapters in the numbered parts, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    titles = []
    for part in toc.get("parts", []):
        if not part.get("numbered"):
            continue
        for chapter in part.get("chapters", []):
            source = (ROOT / chapter["file"]).with_suffix(".md").read_text(encoding="utf-8")
            heading = re.search(r"^# (.+)$", source, re.MULTILINE)
            titles.append(heading.group(1).strip())
    return titles


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _flat(text: str) -> str:
    """One line of single spaces, with words split at a line end joined again."""
    return " ".join(re.sub(r"-\n(?=[a-z])", "", text).split())


def check(pdf: Path, student: bool) -> list[str]:
    errors: list[str] = []
    if not pdf.is_file():
        return [f"no PDF at {pdf} (run `make pdf`)"]
    text = pdf_text(pdf)
    flat = _flat(text)
    log = pdf.with_suffix(".log")
    if log.is_file():
        log_text = log.read_text(encoding="utf-8", errors="replace")
        undefined = r"^.*(?:Reference|Citation) .* undefined.*$"
        for line in re.findall(undefined, log_text, re.MULTILINE)[:10]:
            errors.append(f"LaTeX log: {line.strip()}")
        if "There were undefined references" in log_text:
            errors.append("LaTeX log: there were undefined references")
    else:
        errors.append(f"no LaTeX log beside the PDF ({log})")
    for match in list(re.finditer(r"\?\?", text))[:10]:
        context = _flat(text[max(match.start() - 60, 0):match.end() + 20])
        errors.append(f"unresolved reference '??': ...{context}...")

    # numbered chapters, in order: "<n> <title>" in the table of contents
    position = 0
    for number, title in enumerate(numbered_chapter_titles(), start=1):
        words = title.split()[:4]
        pattern = re.compile(rf"\b{number}\s+" + r"\s+".join(re.escape(w) for w in words))
        found = pattern.search(flat, position)
        if not found:
            errors.append(f"chapter {number} ({title!r}) is not numbered {number} in the contents")
        else:
            position = found.end()

    # numbered theorems, equations and figures, referred to by their numbers
    expected = {
        "propositions or theorems": r"\b(?:Proposition|Theorem|Lemma|Corollary) \d+\.\d+",
        "equation numbers": r"\(\d+\.\d+\)",
        "figures": r"\b(?:Fig\.|Figure) \d+\.\d+",
        "tables": r"\bTable \d+\.\d+",
    }
    counts = {}
    for what, pattern in expected.items():
        counts[what] = len(re.findall(pattern, flat))
        if counts[what] == 0:
            errors.append(f"no numbered {what} in the PDF")

    # the bibliography, with its links
    if "Lipshutz" not in flat or "arXiv:2209.10634" not in flat.replace(" ", ""):
        errors.append("the bibliography (Lipshutz et al., arXiv:2209.10634) is missing")
    if "doi:" not in flat.lower():
        errors.append("no DOI in the bibliography")

    solutions = len(re.findall(r"\bSolution to Exercise \d+\.\d+", flat))
    exercises = len(re.findall(r"\bExercise \d+\.\d+", flat))
    if exercises == 0:
        errors.append("no numbered exercises")
    if student and solutions:
        errors.append(f"the student edition shows {solutions} solutions")
    if not student and not solutions:
        errors.append("the full edition shows no solutions")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    pages = info.stdout
    n_pages = re.search(r"Pages:\s+(\d+)", pages)
    print(f"{pdf}: {n_pages.group(1) if n_pages else '?'} pages, "
          + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f", {exercises} exercise mentions, {solutions} solutions")
    return errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", type=Path)
    ap.add_argument("--student", action="store_true", help="the student edition: no solutions")
    args = ap.parse_args(argv)
    errors = check(args.pdf, args.student)
    for error in errors:
        print("FAIL", error)
    print(f"pdf: {0 if errors else 1} passed, {1 if errors else 0} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
