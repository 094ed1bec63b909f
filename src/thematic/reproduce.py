"""Execute the project's notebooks reproducibly.

Notebooks are executed in place with nbclient in their own directory, without timing
metadata, and written back atomically with volatile fields removed, so that executing a
notebook twice gives a byte-identical file. :func:`reproduce` runs every numbered
notebook in order, the how-to notebooks beside them (two at a time by default), then
regenerates the figures and appendix. Kernels share the study's cache, so a warm re-run
reads embeddings and topic-model fits instead of recomputing them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
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
    env: Mapping[str, str] | None = None,
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
    env : mapping, optional
        Extra environment variables of the kernel (on top of this process's environment
        and :data:`KERNEL_ENV`).

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
        client.execute(env={**os.environ, **KERNEL_ENV, **(env or {})})
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
    _scrub(nb)
    nbformat.validate(nb)
    atomic_write_text(path, nbformat.writes(nb) + "\n")
    return path


def _lanes(todo: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split notebooks into the numbered sequence (run in order) and independent ones."""
    numbered = [p for p in todo if p.name[:2].isdigit()]
    return numbered, [p for p in todo if p not in numbered]


def _durations(cache: Path) -> dict[str, float]:
    """Seconds each notebook took last time (from the study's cache; empty if none)."""
    import json

    try:
        data = json.loads((cache / "reproduce-durations.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _longest_first(others: list[Path], last: Mapping[str, float]) -> list[Path]:
    """Order independent notebooks longest first (by their last run; unknown ones first)."""
    return sorted(others, key=lambda p: (-(last.get(p.name, float("inf"))), p.name))


def reproduce(
    root: str | os.PathLike[str] | None = None,
    *,
    notebooks: Iterable[str | os.PathLike[str]] | None = None,
    echo: Callable[[str], None] = print,
    jobs: int | None = None,
) -> list[Path]:
    """Execute every notebook of a study, then regenerate figures and appendix.

    The numbered notebooks (``00-...``, ``01-...``) run one after another, in order, since
    each may read what an earlier one wrote, followed by the figures and the appendix
    (drawn from the study's files, which only the numbered notebooks change); the others
    (how-tos, which work in folders of their own) are independent and run beside them
    when ``jobs`` > 1, longest first by their last run. Every kernel gets
    :data:`KERNEL_ENV` and the study's cache as ``THEMATIC_CACHE_DIR`` (unless that is
    already set), so embeddings and topic-model fits are computed once and reused while
    their inputs are unchanged (:mod:`thematic._fitcache`); results are the same with a
    cold cache.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The study folder (found from the working directory, or from the first notebook
        given, if omitted).
    notebooks : iterable of paths, optional
        Run only these (numbered ones in the order given).
    echo : callable
        Receives one progress line per notebook.
    jobs : int, optional
        Notebooks executed at the same time (default: 2, or 1 on a one-CPU machine).

    Returns
    -------
    list of pathlib.Path
        The notebooks executed, in the order they finished.

    Raises
    ------
    NotebookError
        If a notebook fails (the first failure; notebooks already running finish, no
        other starts, and after a failing numbered notebook the figures and appendix are
        not regenerated).
    """
    import json
    import time
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    from .io import atomic_write_text
    from .project import Project

    todo = [Path(p) for p in notebooks] if notebooks else None
    if root is None and todo:
        root = todo[0].resolve().parent
    study = Project.open(root)
    todo = todo or notebook_order(study.paths.notebooks)
    jobs = max(1, int(jobs)) if jobs is not None else min(2, os.cpu_count() or 1)
    cache = Path(os.environ.get("THEMATIC_CACHE_DIR") or study.paths.cache)
    env = {"THEMATIC_CACHE_DIR": str(cache)}
    last = _durations(cache)
    numbered, others = _lanes(todo)
    others = _longest_first(others, last)
    done: list[Path] = []
    took: dict[str, float] = {}
    lock = threading.Lock()
    count = iter(range(1, len(todo) + 1))
    failed = threading.Event()

    def run(nb: Path) -> None:
        with lock:
            echo(f"[{next(count)}/{len(todo)}] {nb.name}")
        t0 = time.perf_counter()
        execute_notebook(nb, env=env)
        with lock:
            took[nb.name] = round(time.perf_counter() - t0, 1)
            done.append(nb)

    def outputs() -> None:
        with lock:
            echo("figures/")
        study.write_figures()
        with lock:
            echo("appendix/")
        study.write_appendix()

    def lane(first: list[Path], then_outputs: bool) -> None:
        try:
            for nb in first:
                run(nb)
            if then_outputs:
                outputs()
            while not failed.is_set():
                with lock:
                    if not others:
                        return
                    nb = others.pop(0)
                run(nb)
        except BaseException:
            failed.set()
            raise

    if jobs == 1:
        lane(numbered, False)
        outputs()
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(lane, numbered, True)] + [
                pool.submit(lane, [], False) for _ in range(jobs - 1)]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in finished if f.exception() is not None]
            if errors:
                raise errors[0]
    with contextlib.suppress(OSError):
        atomic_write_text(cache / "reproduce-durations.json",
                          json.dumps({**last, **took}, indent=1, sort_keys=True) + "\n")
    return done
