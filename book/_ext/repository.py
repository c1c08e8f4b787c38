"""The book's repository, from one setting, and the buttons that need it.

The launch (Binder, Colab, live code with Thebe), repository and issue buttons all point at
the repository the book is published from. Jupyter Book reads its URL from ``repository.url``
in ``_config.yml`` and shows each button whether or not that repository exists. Here the URL
is, in order: ``repository.url`` when set; else the environment variable
``WHITENBOOK_REPOSITORY``; else the ``origin`` remote of the checkout when it is a GitHub URL.
The buttons appear only when one is found: a clone of a fork on GitHub turns them on without
editing anything, and a local copy shows none that would lead nowhere.
"""

from __future__ import annotations

import os
import re
import subprocess

from sphinx.application import Sphinx

REPOSITORY_ENV = "WHITENBOOK_REPOSITORY"

_GITHUB = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$"
)

LAUNCH_BUTTONS = {
    # Binder builds environment.yml and opens the chapter's .md in JupyterLab (jupytext opens
    # it as a notebook); Colab opens the published .ipynb (whitenbook.colab_url); Thebe runs
    # the page's cells on a Binder kernel in place.
    "notebook_interface": "jupyterlab",
    "binderhub_url": "https://mybinder.org",
    "colab_url": "https://colab.research.google.com",
    "thebe": True,
}


def github_url(remote: str) -> str | None:
    """``https://github.com/<owner>/<name>`` for a GitHub remote (HTTPS or SSH), else None."""
    match = _GITHUB.match(remote.strip())
    return f"https://github.com/{match['owner']}/{match['name']}" if match else None


def origin_remote(directory: str) -> str:
    """The URL of the ``origin`` remote of the checkout holding ``directory`` ("" if none)."""
    try:
        result = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=directory,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def find_repository(configured: str, directory: str) -> str:
    """The repository URL: the setting, the environment, or origin on GitHub ("" if none)."""
    if configured.strip():
        return configured.strip().rstrip("/")
    if os.environ.get(REPOSITORY_ENV, "").strip():
        return os.environ[REPOSITORY_ENV].strip().rstrip("/")
    return github_url(origin_remote(directory)) or ""


def set_buttons(app: Sphinx, config) -> None:
    """Turn the launch, repository and issue buttons on with a repository, off without."""
    options = config.html_theme_options
    url = find_repository(options.get("repository_url", ""), app.srcdir)
    options["repository_url"] = url
    options["use_repository_button"] = options["use_issues_button"] = bool(url)
    options["launch_buttons"] = dict(LAUNCH_BUTTONS) if url else {}


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", set_buttons)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
