"""The repository setting and its buttons (book/_ext/repository.py)."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import repository as rp  # noqa: E402 - from book/_ext, as Sphinx loads it


@pytest.mark.parametrize("remote, url", [
    ("https://github.com/someone/whitening-book.git", "https://github.com/someone/whitening-book"),
    ("https://github.com/someone/whitening-book", "https://github.com/someone/whitening-book"),
    ("git@github.com:someone/whitening.book.git", "https://github.com/someone/whitening.book"),
    ("ssh://git@github.com/someone/book/", "https://github.com/someone/book"),
    ("/srv/git/book", None),
    ("https://gitlab.com/someone/book.git", None),
    ("", None),
])
def test_github_url(remote, url):
    assert rp.github_url(remote) == url


def git_checkout(path, remote=None):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return str(path)


def test_setting_then_environment_then_origin(tmp_path, monkeypatch):
    checkout = git_checkout(tmp_path, "git@github.com:fork/book.git")
    monkeypatch.delenv(rp.REPOSITORY_ENV, raising=False)
    assert rp.find_repository("", checkout) == "https://github.com/fork/book"
    monkeypatch.setenv(rp.REPOSITORY_ENV, "https://github.com/env/book/")
    assert rp.find_repository("", checkout) == "https://github.com/env/book"
    assert rp.find_repository("https://github.com/set/book", checkout) == "https://github.com/set/book"


def set_buttons(directory, configured=""):
    config = types.SimpleNamespace(html_theme_options={"repository_url": configured})
    rp.set_buttons(types.SimpleNamespace(srcdir=directory), config)
    return config.html_theme_options


def test_no_repository_no_buttons(tmp_path, monkeypatch):
    monkeypatch.delenv(rp.REPOSITORY_ENV, raising=False)
    options = set_buttons(git_checkout(tmp_path, "/srv/git/book"))
    assert options["launch_buttons"] == {}
    assert not options["use_repository_button"] and not options["use_issues_button"]


def test_a_repository_turns_every_button_on(tmp_path, monkeypatch):
    monkeypatch.delenv(rp.REPOSITORY_ENV, raising=False)
    options = set_buttons(git_checkout(tmp_path, "https://github.com/fork/book.git"))
    assert options["repository_url"] == "https://github.com/fork/book"
    assert options["use_repository_button"] and options["use_issues_button"]
    assert options["launch_buttons"]["binderhub_url"] and options["launch_buttons"]["colab_url"]
    assert options["launch_buttons"]["thebe"] is True
