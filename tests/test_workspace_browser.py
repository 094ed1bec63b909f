"""End to end in a real browser: JupyterLab + headless Chromium drive the coding workspace.

Starts JupyterLab on 127.0.0.1 on a temporary copy of a SYNTHETIC study, opens a
notebook whose cell shows ``CodingWorkspace``, and with the mouse and keyboard: selects a
passage (after an emoji, so UTF-16 and code-point offsets differ), types a new code in
the combobox labelled ``Code`` and presses Enter; reloads the page and re-runs the cell;
checks the segment is highlighted again and is in ``codings.csv`` with the right offsets
and excerpt; renames the code and moves it into a new theme from the UI and checks
``codebook.yaml``. A screenshot of each step is written to the folder printed at the
start (``<tmp>/screenshots``). The server is stopped whatever happens.

Needs Playwright's Python package and a Chromium: Playwright's own browser if it is
installed, else ``/usr/bin/chromium`` (Debian: ``apt-get install chromium``). Without
either the test FAILS (it is part of ``make test``), naming what to install.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from thematic.project import Project

TOKEN = "thematic-browser-test"
SYSTEM_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-dev-shm-usage"]
EMOJI = "\U0001F642 "  # an astral character: 2 UTF-16 units, 1 code point
PASSAGE = "checks in with me every week"


def _chromium() -> tuple[object, str]:
    """Playwright's sync API and the Chromium to launch (fails with what to install)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the environment is broken
        pytest.fail("the browser test needs Playwright's Python package: "
                    ".venv/bin/python -m pip install playwright (see pyproject.toml)")
    with sync_playwright() as pw:
        own = Path(pw.chromium.executable_path)
    if own.is_file():
        return sync_playwright, str(own)
    for path in SYSTEM_CHROMIUM:
        if Path(path).is_file():
            return sync_playwright, path
    pytest.fail("no Chromium for the browser test: neither Playwright's browser "
                f"({own}) nor {' or '.join(SYSTEM_CHROMIUM)} exists; install one with "
                "`apt-get install -y chromium` (Debian) or "
                "`.venv/bin/python -m playwright install chromium`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _synthetic_study(root: Path) -> Project:
    """A SYNTHETIC staff-survey study, cleaned and de-identified as `thematic clean` does."""
    from thematic.clean import clean_responses
    from thematic.deidentify import deidentify_responses, drop_identifying_columns, read_term_list
    from thematic.examples import staff_survey
    from thematic.ingest import read_export

    files = staff_survey(root / "raw", n=24, random_state=11)
    df, read_audit = read_export(files.export, text_columns=["Q2", "Q3", "Q4"],
                                 group_column="Q1")
    cleaned, _ = clean_responses(df)
    masked, _ = deidentify_responses(cleaned, read_term_list(files.names),
                                     read_term_list(files.organisations))
    public, _ = drop_identifying_columns(masked, audit=read_audit)
    # put the passage to code after an emoji in the first analysable response
    first = public.index[~public["exclude"]][0]
    public.loc[first, "text"] = (f"{EMOJI}Honestly, my line manager {PASSAGE}, "
                                 "and that matters.")
    study = Project.create(root / "study", title="SYNTHETIC staff survey",
                           group_label="staff group", notebooks=False)
    study.import_responses(public)
    return study


def _notebook(path: Path) -> None:
    cell = ("from thematic.project import Project\n"
            "from thematic.workspace import CodingWorkspace\n"
            "CodingWorkspace(Project.open('study'))")
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "workspace",
                     "metadata": {}, "outputs": [], "source": cell}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                      "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


@contextlib.contextmanager
def _jupyterlab(root: Path):
    """Run JupyterLab on 127.0.0.1 with private config/runtime dirs; always stop it."""
    port = _free_port()
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        env[var] = str(root / ".jupyter" / sub)
        (root / ".jupyter" / sub).mkdir(parents=True, exist_ok=True)
    notif = root / ".jupyter" / "settings" / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    env["OMP_NUM_THREADS"] = "1"
    env.pop("THEMATIC_PROJECT_ROOT", None)
    log = (root / "jupyter.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--ServerApp.terminals_enabled=False", "--LabApp.news_url=",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 40
        while True:
            if proc.poll() is not None:
                pytest.fail("JupyterLab exited at start:\n"
                            + (root / "jupyter.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer within 40 s:\n"
                                + (root / "jupyter.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def _run_cell(page) -> None:
    """Run the notebook's only cell and wait for the workspace to render."""
    editor = page.locator(".jp-Cell .jp-InputArea-editor").first
    editor.wait_for(timeout=30_000)
    # the kernel is connected and idle (status bar: "Python 3 (ipykernel) | Idle")
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector("
                           "'.jp-StatusBar-Widget, #jp-main-statusbar')?.innerText || '')",
                           timeout=45_000)
    editor.click()
    page.keyboard.press("Control+Enter")
    page.locator(".tw").first.wait_for(timeout=45_000)
    page.get_by_role("region", name="Response text").wait_for(timeout=15_000)


def _select_with_mouse(page, text: str) -> None:
    """Drag the mouse over ``text`` inside the region labelled Response text."""
    region = page.get_by_role("region", name="Response text")
    box = region.evaluate("""(el, needle) => {
        const full = el.textContent; const i = full.indexOf(needle);
        if (i < 0) return null;
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let acc = 0, start = null, end = null;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const l = n.data.length;
            if (start === null && acc + l > i) start = [n, i - acc];
            if (end === null && acc + l >= i + needle.length) { end = [n, i + needle.length - acc]; break; }
            acc += l;
        }
        const r1 = document.createRange(); r1.setStart(start[0], start[1]); r1.setEnd(start[0], start[1] + 1);
        const r2 = document.createRange(); r2.setStart(end[0], end[1] - 1); r2.setEnd(end[0], end[1]);
        const a = r1.getBoundingClientRect(), b = r2.getBoundingClientRect();
        return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
    }""", text)
    assert box is not None, f"{text!r} is not in the response text"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2, steps=4)
    page.mouse.move(box["x2"], box["y2"], steps=4)
    page.mouse.up()


def _wait_status(page, pattern: str, timeout: float = 20_000) -> str:
    status = page.locator(".tw-status")
    page.wait_for_function(
        """([sel, pat]) => { const el = document.querySelector(sel);
            return el && new RegExp(pat).test(el.textContent); }""",
        arg=[".tw-status", pattern], timeout=timeout)
    return status.inner_text()


def test_code_rename_and_move_in_a_real_browser(tmp_path: Path) -> None:
    sync_playwright, chromium = _chromium()
    t0 = time.monotonic()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")
    study = _synthetic_study(tmp_path)
    _notebook(tmp_path / "workspace.ipynb")
    text = study.analysable()["text"].iloc[0]
    rid = study.analysable()["response_id"].iloc[0]
    start = text.index(PASSAGE)  # a code-point offset (Python's)
    assert len(text[:start].encode("utf-16-le")) // 2 == start + 1  # UTF-16 differs by one

    with _jupyterlab(tmp_path) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda d: d.accept())
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/lab/tree/workspace.ipynb?token={TOKEN}", timeout=30_000)
            _run_cell(page)
            ws = page.locator(".tw").first
            ws.scroll_into_view_if_needed()
            ws.screenshot(path=str(shots / "1-opened.png"))

            # 1. select a passage with the mouse, type a new code, press Enter
            _select_with_mouse(page, PASSAGE)
            page.wait_for_function(
                "() => /Selected in/.test(document.querySelector('.tw-sel').textContent)")
            ws.screenshot(path=str(shots / "2-selected.png"))
            combo = page.get_by_role("combobox", name="Code")
            combo.click()
            combo.type("weekly check-ins")
            ws.screenshot(path=str(shots / "3-typed.png"))
            combo.press("Enter")
            said = _wait_status(page, "Saved|Error")
            assert said.startswith("Saved"), said
            region = page.get_by_role("region", name="Response text")
            assert region.locator(".tw-seg").count() >= 1
            ws.screenshot(path=str(shots / "4-coded.png"))

            on_disk = pd.read_csv(study.paths.codings, dtype=str, keep_default_na=False)
            assert len(on_disk) == 1, on_disk
            row = on_disk.iloc[0]
            assert row["response_id"] == rid
            assert (int(row["start"]), int(row["end"])) == (start, start + len(PASSAGE))
            assert row["excerpt"] == PASSAGE == text[int(row["start"]):int(row["end"])]
            assert row["code"] == "weekly-check-ins"

            # 2. reload the page, run the cell again: the segment is shown again
            page.reload(timeout=30_000)
            _run_cell(page)
            region = page.get_by_role("region", name="Response text")
            seg = region.locator(".tw-seg")
            seg.first.wait_for(timeout=10_000)
            assert "".join(seg.all_inner_texts()) == PASSAGE
            assert "weekly check-ins" in (seg.first.get_attribute("title") or "")
            seg.first.click()
            page.get_by_role("group", name="Segment coded weekly check-ins").wait_for()
            ws = page.locator(".tw").first
            ws.screenshot(path=str(shots / "5-reloaded.png"))

            # 3. rename the code in the Codes tab
            page.get_by_role("tab", name="Codes").click()
            page.get_by_role("button", name="Rename code weekly check-ins").click()
            box = page.get_by_label("New name for code weekly check-ins")
            box.fill("manager checks in")
            box.press("Enter")
            said = _wait_status(page, "Saved: renamed|Error")
            assert said.startswith("Saved"), said
            ws.screenshot(path=str(shots / "6-renamed.png"))

            # 4. a new theme, and the code moved into it with the picker
            page.get_by_role("tab", name="Themes").click()
            page.get_by_label("New theme").fill("Being looked after")
            page.get_by_role("button", name="Add theme").click()
            said = _wait_status(page, "Saved: added candidate theme|Error")
            assert said.startswith("Saved"), said
            page.get_by_label("Move code manager checks in to theme").select_option(
                label="Being looked after")
            said = _wait_status(page, "Saved: moved|Error")
            assert said.startswith("Saved"), said
            page.get_by_role("group", name="Theme: Being looked after").locator(
                ".tw-chip-name", has_text="manager checks in").wait_for()
            ws.screenshot(path=str(shots / "7-themes.png"))
            assert not errors, errors
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shots / "failed.png"), full_page=True)
            print("page errors:", errors)
            print((tmp_path / "jupyter.log").read_text(errors="replace")[-4000:])
            raise
        finally:
            browser.close()

    cb = yaml.safe_load(study.paths.codebook.read_text(encoding="utf-8"))
    themes = cb.get("themes") or []
    flat = json.dumps(cb)
    assert "manager checks in" in flat and "weekly check-ins" not in flat, flat
    theme = next(t for t in themes if t["name"] == "Being looked after")
    assert [c["name"] for c in theme["codes"]] == ["manager checks in"]
    assert [c["id"] for c in theme["codes"]] == ["weekly-check-ins"]  # the id is kept
    on_disk = pd.read_csv(study.paths.codings, dtype=str)
    assert on_disk["code"].tolist() == ["weekly-check-ins"]
    print(f"browser test took {time.monotonic() - t0:.1f} s")
    shutil.rmtree(tmp_path / ".jupyter", ignore_errors=True)
