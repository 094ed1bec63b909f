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


# names renamed to one verb per meaning (read_* in, write_* out): removed, not aliased
_REMOVED = {
    "codebook": ["load_codebook", "save_codebook", "save_version", "load_version"],
    "coding": ["load_codings", "save_codings", "load_responses", "load_memos", "save_memo",
               "Report"],
    "refi": ["export_qdpx", "export_qdc", "export_taguette_codebook", "export_caveats"],
    "figures": ["save_figure"],
    "io": ["load_yaml"],
    "schemas": ["validate"],
    "ingest": ["ingest_audit"],
    "clean": ["load_pipeline"],
    "deidentify": ["deidentify", "ENGINES"],
}


@pytest.mark.parametrize("module", sorted(_REMOVED))
def test_old_names_are_gone_not_aliased(module):
    import importlib

    mod = importlib.import_module(f"thematic.{module}")
    # gone from the module (coding imports errors.Report, the one report type, to use it)
    left = [n for n in _REMOVED[module] if n in getattr(mod, "__all__", [])
            or (hasattr(mod, n) and getattr(mod, n) is not thematic.errors.Report)]
    assert left == []
    top = [n for n in _REMOVED[module] if n in thematic.__all__ and n != "Report"]
    assert top == []
    assert thematic.Report is thematic.errors.Report  # the one report type


def test_project_writes_refi_and_keeps_its_study_calls():
    from thematic.project import Project

    assert not hasattr(Project, "export_refi") and callable(Project.write_refi)
    for name in ("create", "open", "code", "uncode", "rename_code", "merge_codes", "add_theme",
                 "move_code", "retrieve", "search", "save_version"):
        assert callable(getattr(Project, name)), name


def test_no_public_function_is_named_load_save_or_export():
    import importlib
    import inspect

    bad = []
    for module in sorted(thematic._SUBMODULES):
        mod = importlib.import_module(f"thematic.{module}")
        for name in getattr(mod, "__all__", []):
            if name.startswith(("load_", "save_", "export_")) and \
                    inspect.isfunction(getattr(mod, name, None)):
                bad.append(f"{module}.{name}")
    # the other stage modules are renamed in a later pass; these are the ones left
    assert set(bad) <= {"compare.load_project"}, bad
