"""The ``thematic`` command line.

Each subcommand lives in its own module in this package and is loaded only when it runs,
so ``thematic --help`` stays fast. Errors raised on purpose (:class:`ThematicError`,
missing files) print one line to stderr and exit with status 1 (2 for usage errors);
never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import ThematicError

__all__ = ["main", "cli"]

# subcommand -> (module in thematic.cli, click command attribute, one-line help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "build-corpus": ("corpus", "build_corpus_cmd", "Derive corpus/processed and corpus/context from corpus/raw."),
    "clean": ("clean", "clean_cmd", "Read a survey export, clean and de-identify it, write a tidy CSV."),
    "check": ("coding", "check_cmd", "Validate the codebook and codings; exit 1 listing every problem."),
    "export-refi": ("coding", "export_refi_cmd", "Export the project as REFI-QDA .qdpx or the codebook as .qdc."),
    "import-refi": ("coding", "import_refi_cmd", "Import a REFI-QDA .qdpx/.qdc into codebook.yaml, codings.csv, responses.csv."),
    "compare": ("compare", "compare_cmd", "Check the manual themes against topic models (a reflexive prompt)."),
    "figures": ("figures", "figures_cmd", "Regenerate every figure in figures/ from the corpus."),
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

    Run from the project root (or set THEMATIC_PROJECT_ROOT): commands default to the
    project's own corpus, codebook and codings.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thematic`` console script.

    Returns the exit status instead of raising, so it can be called from tests.
    """
    try:
        cli.main(args=argv, prog_name="thematic", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("thematic: aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (ThematicError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        msg = " ".join(str(exc).split())
        click.echo(f"thematic: error: {msg}", err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
