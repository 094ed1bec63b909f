"""Execute the project's notebooks reproducibly.

Notebooks are executed in place with nbclient in their own directory, without timing
metadata, and written back atomically with volatile fields removed, so that executing a
notebook twice gives a byte-identical file. :func:`reproduce` runs every numbered
notebook in order (then the how-to notebooks), then regenerates the figures and appendix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ThematicError
from .io import atomic_write_text

__all__ = ["NotebookError", "notebook_order", "execute_notebook", "reproduce"]

#: Environment every notebook kernel runs with: offline models, no progress bars,
#: fixed hashing, one BLAS thread (bit-stable floating point on one machine).
KERNEL_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


class NotebookError(ThematicError):
    """A notebook cell failed; names the notebook and the cell."""


def notebook_order(directory: str | os.PathLike[str]) -> list[Path]:
    """Return the notebooks in ``directory`` in execution order.

    Numbered notebooks (``00-...``) first, sorted by name, then the others (how-tos).
    """
    nbs = sorted(p for p in Path(directory).glob("*.ipynb") if not p.name.startswith("."))
    numbered = [p for p in nbs if p.name[:2].isdigit()]
    return numbered + [p for p in nbs if p not in numbered]


def _scrub(nb) -> None:
    """Remove metadata that changes between runs without changing results."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    info = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {"name": info.get("name", "python")}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        cell.pop("id", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("transient", None)
                # a widget's view names a random model id; its text/plain repr stays
                out.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    nb.nbformat_minor = 4


def execute_notebook(
    path: str | os.PathLike[str],
    *,
    timeout: int = 1800,
    kernel_name: str = "python3",
) -> Path:
    """Execute one notebook in place, deterministically.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.ipynb`` file. It is executed with its own directory as working directory.
    timeout : int
        Seconds allowed per cell.
    kernel_name : str
        Jupyter kernel to use (the current environment's ``python3``).

    Returns
    -------
    pathlib.Path
        The notebook path.

    Raises
    ------
    NotebookError
        If a cell raises; names the notebook and the 1-based code-cell number, and the
        notebook file is left as it was.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env_before = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
        # the kernel's start-up notice about its local TCP transport is noise here
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        allow_errors=False,
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        failing = next(
            (
                i
                for i, c in enumerate(code_cells, 1)
                if any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"{path}: code cell {failing} failed: {last}") from None
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    _scrub(nb)
    nbformat.validate(nb)
    atomic_write_text(path, nbformat.writes(nb) + "\n")
    return path


def reproduce(
    root: str | os.PathLike[str] | None = None,
    *,
    notebooks: Iterable[str | os.PathLike[str]] | None = None,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Execute every notebook of a study in order, then regenerate figures and appendix.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The study folder (found from the working directory, or from the first notebook
        given, if omitted).
    notebooks : iterable of paths, optional
        Run only these (in the order given).
    echo : callable
        Receives one progress line per notebook.

    Returns
    -------
    list of pathlib.Path
        The notebooks executed.
    """
    from .project import Project

    todo = [Path(p) for p in notebooks] if notebooks else None
    if root is None and todo:
        root = todo[0].resolve().parent
    study = Project.open(root)
    todo = todo or notebook_order(study.paths.notebooks)
    done = []
    for i, nb in enumerate(todo, 1):
        echo(f"[{i}/{len(todo)}] {nb.name}")
        execute_notebook(nb)
        done.append(nb)
    echo("figures/")
    study.write_figures()
    echo("appendix/")
    study.write_appendix()
    return done
