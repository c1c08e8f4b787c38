"""`make lab`: JupyterLab opens the chapters as notebooks and saves edits back to the `.md`.

A real JupyterLab server (installed from requirements.lock) is started on localhost on a free
port, asked for a chapter through its contents API, and stopped. jupytext's contents manager
(its server extension is switched on by installing jupytext) serves the MyST `.md` as a
notebook; a notebook saved through the same API is written back as MyST markdown, with no
`.ipynb` beside it (`[tool.jupytext] formats = "md:myst"` in pyproject.toml).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (it is in requirements.lock)")
pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "book/04_acceleration.md"
START_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Lab:
    """`python -m jupyterlab` on localhost, serving `root`, with a random token."""

    def __init__(self, root: Path, log: Path):
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
               "JUPYTER_RUNTIME_DIR": str(root / ".jupyter-runtime")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=root,
        )

    def request(self, path: str, method: str = "GET", body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw.strip().startswith(b"{") else raw)

    def wait_until_up(self, log_path: Path) -> None:
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = log_path.read_text()[-3000:]
                pytest.fail(f"JupyterLab exited with {self.proc.returncode}:\n{log}")
            try:
                self.request("/api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        log = log_path.read_text()[-3000:]
        pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT_S} s:\n{log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A copy of the book's jupytext settings and one chapter, served by JupyterLab."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "book").mkdir()
    shutil.copy(ROOT / CHAPTER, root / CHAPTER)
    log = root / "lab.log"
    server = _Lab(root, log)
    try:
        server.wait_until_up(log)
        yield server, root
    finally:
        server.stop()
    assert server.proc.returncode is not None


def test_lab_serves_a_chapter_as_a_notebook(lab):
    server, _ = lab
    status, page = server.request("/lab")
    assert status == 200 and b"JupyterLab" in page
    status, model = server.request(f"/api/contents/{CHAPTER}?type=notebook&content=1")
    assert status == 200
    assert model["type"] == "notebook" and model["format"] == "json"
    nb = model["content"]
    kinds = [cell["cell_type"] for cell in nb["cells"]]
    assert kinds.count("code") >= 5 and kinds.count("markdown") >= 5
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert any("import whitenlib" in source for source in code)
    assert nb["metadata"]["kernelspec"]["language"] == "python"


def test_lab_saves_edits_back_to_the_md(lab):
    server, root = lab
    _, model = server.request(f"/api/contents/{CHAPTER}?type=notebook&content=1")
    nb = model["content"]
    marker = "An edit made in JupyterLab."
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": marker})
    status, saved = server.request(f"/api/contents/{CHAPTER}", method="PUT",
                                   body={"type": "notebook", "format": "json", "content": nb})
    assert status == 200 and saved["path"] == CHAPTER
    text = (root / CHAPTER).read_text()
    assert text.rstrip().endswith(marker)
    assert "```{code-cell} ipython3" in text  # still MyST markdown
    assert not list(root.rglob("*.ipynb")), "saving must not create a paired .ipynb"
