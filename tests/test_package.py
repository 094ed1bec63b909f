"""The package surface: version, light import, curated API, the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

import thematic
from thematic.cli import main

HEAVY = ("torch", "bertopic", "sentence_transformers", "umap", "hdbscan", "spacy", "transformers")


def test_version_matches_metadata():
    from importlib.metadata import version

    assert thematic.__version__ == version("thematic")


def test_import_is_light():
    code = (
        "import sys, thematic; "
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import thematic loaded: {out.stdout.strip()}"


def test_every_public_name_resolves():
    missing = [name for name in thematic.__all__ if not hasattr(thematic, name)]
    assert missing == []
    assert len(thematic.__all__) == len(set(thematic.__all__))


def test_unknown_attribute_is_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        thematic.no_such_thing  # noqa: B018


def test_cli_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert thematic.__version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("clean", "check", "export-refi", "import-refi", "compare", "figures", "reproduce"):
        assert cmd in out


def test_cli_every_subcommand_has_help(capsys):
    for cmd in ("build-corpus", "clean", "check", "export-refi", "import-refi", "compare",
                "figures", "reproduce"):
        assert main([cmd, "--help"]) == 0, cmd
        assert "Usage" in capsys.readouterr().out


def test_cli_usage_error_exit_2(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_cli_errors_are_one_line_no_traceback(tmp_path):
    (tmp_path / "corpus" / "raw").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "thematic", "build-corpus", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "source document not found" in lines[0]
    assert "anti-racism-cop-slides.txt" in lines[0]


def test_type_checking_imports_mirror_the_lazy_exports():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(thematic.__file__).read_text())
    guarded = next(n for n in tree.body if isinstance(n, ast.If)
                   and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = {
        alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == thematic._EXPORTS
