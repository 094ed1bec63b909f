"""Notebooks execute deterministically and failures name the notebook and cell."""

from __future__ import annotations

import json

import nbformat
import pytest

from thematic.reproduce import NotebookError, execute_notebook, notebook_order


def _nb(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny")] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    nbformat.write(nb, path)
    return path


def test_execution_is_byte_identical_and_has_no_volatile_metadata(tmp_path):
    p = _nb(tmp_path / "a.ipynb", "import os\nprint(os.environ['PYTHONHASHSEED'])", "1 + 1")
    execute_notebook(p)
    first = p.read_bytes()
    execute_notebook(p)
    assert p.read_bytes() == first
    nb = nbformat.read(p, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "0\n"  # fixed hash seed in the kernel
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "2"
    assert all("execution" not in c.metadata for c in nb.cells)
    assert "version" not in nb.metadata["language_info"]


def test_failure_names_notebook_and_cell_and_keeps_file(tmp_path):
    p = _nb(tmp_path / "bad.ipynb", "x = 1", "raise ValueError('boom')")
    before = p.read_bytes()
    with pytest.raises(NotebookError) as info:
        execute_notebook(p)
    msg = str(info.value)
    assert "bad.ipynb" in msg and "code cell 2" in msg and "boom" in msg
    assert p.read_bytes() == before


def test_notebook_order(tmp_path):
    for name in ("howto-x.ipynb", "01-b.ipynb", "00-a.ipynb", ".hidden.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in notebook_order(tmp_path)] == [
        "00-a.ipynb", "01-b.ipynb", "howto-x.ipynb"
    ]


def test_reproduce_runs_numbered_notebooks_in_order_beside_the_others(tmp_path, monkeypatch):
    import thematic
    from thematic.reproduce import reproduce

    monkeypatch.delenv("THEMATIC_CACHE_DIR", raising=False)
    study = thematic.Project.create(tmp_path / "s", title="Tiny", notebooks=False)
    nbdir = study.paths.notebooks
    nbdir.mkdir(exist_ok=True)
    log = tmp_path / "log.txt"
    step = ("import os, pathlib, time\n"
            "p = pathlib.Path({log!r}); time.sleep({pause})\n"
            "p.write_text(p.read_text() + '{name} ' if p.exists() else '{name} ')\n"
            "print(os.environ['THEMATIC_CACHE_DIR'])")
    for name, pause in [("00-a", 0.5), ("01-b", 0), ("02-c", 0), ("howto-x", 0),
                        ("howto-y", 0)]:
        _nb(nbdir / f"{name}.ipynb", step.format(log=str(log), pause=pause, name=name))
    lines = []
    done = reproduce(study.root, echo=lines.append, jobs=2)
    assert sorted(p.name for p in done) == sorted(p.name for p in nbdir.glob("*.ipynb"))
    order = log.read_text().split()
    numbered = [n for n in order if n[0].isdigit()]
    assert numbered == ["00-a", "01-b", "02-c"]
    assert order.index("howto-x") < order.index("01-b")  # ran beside 00-a, not after it
    # figures and appendix follow the numbered notebooks (how-tos may still be running)
    started = [line.split("] ")[1] for line in lines if line.startswith("[")]
    assert lines.index("figures/") > max(lines.index(f"[{started.index(n) + 1}/5] {n}")
                                         for n in ("00-a.ipynb", "01-b.ipynb", "02-c.ipynb"))
    assert lines.index("appendix/") == lines.index("figures/") + 1
    durations = json.loads((study.paths.cache / "reproduce-durations.json").read_text())
    assert set(durations) == {p.name for p in done} and durations["00-a.ipynb"] >= 0.5
    out = nbformat.read(nbdir / "howto-y.ipynb", as_version=4).cells[1].outputs[0]["text"]
    assert out.strip() == str(study.paths.cache)  # every kernel shares the study's cache


def test_reproduce_stops_at_a_failing_notebook_and_names_it(tmp_path, monkeypatch):
    import thematic
    from thematic.reproduce import reproduce

    monkeypatch.delenv("THEMATIC_CACHE_DIR", raising=False)
    study = thematic.Project.create(tmp_path / "s", title="Tiny", notebooks=False)
    nbdir = study.paths.notebooks
    nbdir.mkdir(exist_ok=True)
    _nb(nbdir / "00-a.ipynb", "raise RuntimeError('broken step')")
    _nb(nbdir / "01-b.ipynb", "1")
    _nb(nbdir / "howto-x.ipynb", "1")
    before = (nbdir / "01-b.ipynb").read_bytes()
    for jobs in (1, 2):
        with pytest.raises(NotebookError, match=r"00-a\.ipynb: code cell 1 failed.*broken"):
            reproduce(study.root, echo=lambda s: None, jobs=jobs)
        assert (nbdir / "01-b.ipynb").read_bytes() == before  # the sequence stopped
    assert not list(study.paths.figures.glob("*.svg"))  # nothing regenerated after a failure


def test_independent_notebooks_run_longest_first_by_their_last_run():
    from pathlib import Path

    from thematic.reproduce import _longest_first

    nbs = [Path(f"howto-{c}.ipynb") for c in "abcd"]
    last = {"howto-a.ipynb": 2.0, "howto-b.ipynb": 9.5, "howto-d.ipynb": 4.0}
    assert [p.name for p in _longest_first(nbs, last)] == [
        "howto-c.ipynb", "howto-b.ipynb", "howto-d.ipynb", "howto-a.ipynb"]  # unknown first
