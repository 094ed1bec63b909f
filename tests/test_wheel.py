"""The built wheel works outside this repository: init a study, import an export, run its notebooks.

The wheel is built from the working tree and installed (without dependencies) into a new
virtual environment in a temporary folder; the dependencies come from the test's own
environment through a path file, so no package is downloaded. Everything then runs from
a folder outside the repository, so only what the wheel carries (package data: the
REFI-QDA schemas, the workspace's front end) is available.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    dist = base / "dist"
    env = {k: v for k, v in os.environ.items() if k != "THEMATIC_PROJECT_ROOT"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--quiet", "-w", str(dist), str(ROOT)], cwd=base, env=env)
    wheels = sorted(dist.glob("thematic-*.whl"))
    assert len(wheels) == 1, wheels
    target = base / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    py = target / "bin" / "python"
    new_site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=base, env=env).strip())
    # the dependencies of this environment, as a plain path (no .pth of it is processed, so
    # this repository's editable install of thematic is not visible)
    (new_site / "_deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--quiet",
          str(wheels[0])], cwd=base, env=env)
    env["PATH"] = f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"base": base, "py": py, "env": env, "wheel": wheels[0]}


def test_the_installed_package_comes_from_the_wheel_with_its_data(installed):
    out = _run([str(installed["py"]), "-c",
                "import thematic, thematic.refi, pathlib; p = pathlib.Path(thematic.__file__); "
                "print(p); print(sorted(x.name for x in (p.parent / 'data').rglob('*.xsd'))); "
                "print((p.parent / 'data' / 'workspace' / 'workspace.js').is_file())"],
               cwd=installed["base"], env=installed["env"])
    path, xsd, js = out.strip().splitlines()
    assert str(installed["base"]) in path and str(ROOT) not in path
    assert "Codebook.xsd" in xsd and "Project-mrt2019.xsd" in xsd
    assert js == "True"


def test_init_a_study_import_an_export_and_run_its_notebooks(installed):
    base, py, env = installed["base"], installed["py"], installed["env"]
    thematic = str(py.parent / "thematic")
    _run([thematic, "init", "study", "--title", "Wheel study (SYNTHETIC)",
          "--group-label", "staff group"], cwd=base, env=env)
    _run([str(py), "-c", "from thematic.examples import staff_survey; staff_survey('inbox', n=30)"],
         cwd=base, env=env)
    env = {**env, "THEMATIC_SALT": "wheel-test-salt"}
    _run([thematic, "clean", "inbox/synthetic-qualtrics-staff-survey.csv", "--project", "study",
          "--names", "inbox/synthetic-names.txt"], cwd=base, env=env)
    _run([str(py), "-c",
          "import thematic; s = thematic.Project.open('study'); "
          "r = s.search('manager')['response_id'].iloc[0]; "
          "s.code(r, 'manager', excerpt='manager'); s.add_theme('T1', 'Managers', codes=['manager'])"],
         cwd=base, env=env)
    _run([thematic, "reproduce", "--project", "study"], cwd=base, env=env, timeout=900)
    study = base / "study"
    assert (study / "figures" / "thematic_map.svg").is_file()
    assert (study / "appendix" / "methods.md").is_file()
    for nb in sorted((study / "notebooks").glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        assert '"output_type": "error"' not in text, nb.name
        assert '"execution_count": 1' in text, nb.name
