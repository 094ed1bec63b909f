"""Notebooks execute deterministically and failures name the notebook and cell."""

from __future__ import annotations

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
