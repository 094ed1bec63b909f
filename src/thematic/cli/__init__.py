"""The ``thematic`` command line.

Each subcommand lives in its own module in this package and is loaded only when it runs,
so ``thematic --help`` stays fast. Errors raised on purpose (:class:`ThematicError`),
errors of the system (missing file, no permission, full disk, read-only file system:
any :class:`OSError`, named by its file), undecodable text, lack of memory and too deep
nesting print one line ``thematic: error: ...`` to stderr and exit with status 1 (2 for
usage errors, 130 when interrupted); never a traceback.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from .. import __version__
from ..errors import ThematicError

__all__ = ["main", "cli"]

# subcommand -> (module in thematic.cli, click command attribute, one-line help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "build-corpus": ("corpus", "build_corpus_cmd", "Derive corpus/processed and corpus/context from corpus/raw."),
    "clean": ("clean", "clean_cmd", "Read a survey export, clean and de-identify it, write a tidy CSV."),
    "init": ("study", "init_cmd", "Create a new study folder: layout, settings, starter notebooks."),
    "check": ("study", "check_cmd", "Check the codebook, codings and memos; exit 1 listing every problem."),
    "export-refi": ("coding", "write_refi_cmd", "Export the project as REFI-QDA .qdpx or the codebook as .qdc."),
    "import-refi": ("coding", "import_refi_cmd", "Import a REFI-QDA .qdpx/.qdc into codebook.yaml, codings.csv, responses.csv."),
    "compare": ("compare", "compare_cmd", "Check the manual themes against topic models (a reflexive prompt)."),
    "figures": ("study", "figures_cmd", "Redraw the study's figures in figures/."),
    "appendix": ("study", "appendix_cmd", "Write the paper appendix (quotes, codebook, methods) in appendix/."),
    "reproduce": ("reproduce", "reproduce_cmd", "Execute every notebook in order, then regenerate figures and appendix."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="thematic")
def cli() -> None:
    """Reflexive thematic analysis of survey free text, reproducibly.

    Commands that read a study take --project DIR; by default the study is the one
    holding the working directory (or THEMATIC_PROJECT_ROOT).
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thematic`` console script.

    Returns the exit status instead of raising, so it can be called from tests.
    """
    try:
        rv = cli.main(args=argv, prog_name="thematic", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("thematic: aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ThematicError as exc:
        _error(str(exc))
        return 1
    except OSError as exc:  # missing file, no permission, full disk, read-only file system, ...
        _error(_os_error(exc))
        return 1
    except UnicodeError as exc:  # readers name the file; this is the last resort
        _error(f"a file is not valid UTF-8 ({exc}); save it as UTF-8")
        return 1
    except MemoryError:
        _error("out of memory: the input is too large to process on this machine")
        return 1
    except RecursionError:
        _error("the input is nested too deeply to process")
        return 1
    except KeyboardInterrupt:
        click.echo("thematic: interrupted", err=True)
        return 130
    except SystemExit as exc:  # a command that calls sys.exit(n)
        return exc.code if isinstance(exc.code, int) else 1
    # with standalone_mode=False click returns the code of ``ctx.exit(n)`` / ``Exit(n)``
    return rv if isinstance(rv, int) else 0


def _error(message: str) -> None:
    """Print ``thematic: error: MESSAGE`` on one line to stderr."""
    click.echo(f"thematic: error: {' '.join(message.split())}", err=True)


# errno -> what to do about it, added to the system's message
_OS_HINTS = {
    getattr(errno, name): hint
    for name, hint in [
        ("ENOSPC", "the disk is full; free some space and run again"),
        ("EDQUOT", "the disk quota is exceeded"),
        ("EROFS", "the file system is read-only; write somewhere else"),
        ("EACCES", "check the file's permissions"),
        ("EPERM", "check the file's permissions"),
    ]
    if hasattr(errno, name)
}


def _os_error(exc: OSError) -> str:
    """Describe an :class:`OSError` on one line, naming its file(s)."""
    what = exc.strerror or str(exc)
    hint = _OS_HINTS.get(exc.errno) if exc.errno is not None else None
    if hint:
        what = f"{what} ({hint})"
    if exc.filename is not None:
        files = os.fsdecode(exc.filename)
        if exc.filename2 is not None:
            files += f" -> {os.fsdecode(exc.filename2)}"
        return f"{files}: {what}"
    return what


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
