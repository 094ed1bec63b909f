"""The coding workspace's kernel side: every front-end action → the study's files on disk.

Each test sends the messages the front end sends (``CodingWorkspace.dispatch``, or the
comm handler) and reads back what was written, with pandas/yaml, not with the code under
test. The browser side is tested in tests/test_workspace_browser.py.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from thematic.project import Project
from thematic.workspace import PAGE_SIZE, CodingWorkspace

EMOJI = "\U0001F642"  # astral: 1 code point, 2 UTF-16 units
TEXTS = {
    "R1": f"{EMOJI} I felt unheard by my manager and unheard again in the team meeting.",
    "R2": "Training was useful and my colleagues were kind.",
    "R3": "n/a",
    "R4": "Rotas come out late so I cannot plan childcare.",
    "R5": "My manager listens. The rota is fair.",
}


def _responses() -> pd.DataFrame:
    return pd.DataFrame({
        "response_id": list(TEXTS),
        "respondent_id": ["a", "b", "c", "d", "e"],
        "question": ["Q support", "Q support", "Q support", "Q change", "Q change"],
        "group": ["Nursing", "Admin", "Nursing", "Estates", "Nursing"],
        "text": list(TEXTS.values()),
        "exclude": [False, False, True, False, False],
    })


@pytest.fixture
def study(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "study", title="Synthetic study", group_label="staff group",
                       groups=["Nursing", "Admin"], notebooks=False)
    p.import_responses(_responses())
    return p


def _ok(w: CodingWorkspace, **msg) -> dict:
    reply = w.dispatch(msg)
    assert reply["ok"], reply
    return reply


def _codings(study: Project, name: str = "codings.csv") -> pd.DataFrame:
    path = study.paths.coding / name
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _codebook(study: Project) -> dict:
    return yaml.safe_load(study.paths.codebook.read_text(encoding="utf-8"))


def _span(rid: str, passage: str) -> dict:
    s = TEXTS[rid].index(passage)
    return {"response_id": rid, "start": s, "end": s + len(passage), "excerpt": passage}


# ---------------------------------------------------------------------------- opening


def test_opens_on_one_response_and_hides_excluded(study: Project) -> None:
    w = CodingWorkspace(study)
    st = w.state
    assert [r["id"] for r in st["page"]["responses"]] == ["R1"]
    assert st["page"]["total"] == 4  # R3 is excluded
    assert st["counts"] == {"responses": 5, "excluded": 1, "analysable": 4, "matching": 4,
                            "segments": 0, "coded": 0}
    assert st["options"]["groups"] == ["Nursing", "Admin", "Estates"]  # settings order first
    assert st["options"]["questions"] == ["Q support", "Q change"]
    assert st["page"]["responses"][0]["text"] == TEXTS["R1"]
    _ok(w, action="filter", excluded=True)
    assert w.state["page"]["total"] == 5
    _ok(w, action="page", response_id="R3")
    r3 = w.state["page"]["responses"][0]
    assert r3["id"] == "R3" and r3["exclude"] is True


def test_the_front_end_gets_one_page_not_the_corpus(tmp_path: Path) -> None:
    n = 3 * PAGE_SIZE + 7
    p = Project.create(tmp_path / "big", title="Big", notebooks=False)
    p.import_responses(pd.DataFrame({
        "response_id": [f"R{i:03d}" for i in range(n)], "respondent_id": [str(i) for i in range(n)],
        "question": ["q"] * n, "group": ["g"] * n,
        "text": [f"answer number {i} marker{i:03d}x" for i in range(n)], "exclude": [False] * n}))
    w = CodingWorkspace(p)
    sent = json.dumps(w.state)
    assert sent.count("marker") == 1
    _ok(w, action="view", mode="list")
    sent = json.dumps(w.state)
    assert sent.count("marker") == PAGE_SIZE
    assert "marker000x" in sent and f"marker{PAGE_SIZE:03d}x" not in sent
    _ok(w, action="page", delta=1)
    assert [r["id"] for r in w.state["page"]["responses"]][0] == f"R{PAGE_SIZE:03d}"
    _ok(w, action="page", index=n - 1)
    assert w.state["page"]["start"] == 3 * PAGE_SIZE
    assert len(w.state["page"]["responses"]) == 7


# ---------------------------------------------------------------------------- coding


def test_code_writes_code_point_offsets_after_an_emoji(study: Project) -> None:
    w = CodingWorkspace(study)
    reply = _ok(w, id=7, action="code", code="Feeling unheard", **_span("R1", "felt unheard"))
    assert reply["id"] == 7 and "Feeling unheard" in reply["message"]
    rows = _codings(study)
    start = TEXTS["R1"].index("felt unheard")
    assert start == 4  # "🙂 I " is 4 code points (5 UTF-16 units)
    assert rows.to_dict("records") == [{
        "response_id": "R1", "code": "feeling-unheard", "start": str(start),
        "end": str(start + 12), "excerpt": "felt unheard", "coder": "researcher", "memo": ""}]
    assert [(c["id"], c["name"]) for c in _codebook(study)["codes"]] == [
        ("feeling-unheard", "Feeling unheard")]
    seg = w.state["page"]["responses"][0]["segments"]
    assert seg == [{"code": "feeling-unheard", "start": 4, "end": 16, "coder": "researcher",
                    "memo": None}]
    assert w.state["counts"]["segments"] == 1 and w.state["can_undo"] is True


def test_a_selection_that_does_not_match_the_text_writes_nothing(study: Project) -> None:
    w = CodingWorkspace(study)
    before = study.paths.codings.read_bytes()
    # offsets shifted by one, as a UTF-16 count would give after the emoji
    reply = w.dispatch({"action": "code", "response_id": "R1", "start": 5, "end": 17,
                        "excerpt": "felt unheard", "code": "x"})
    assert not reply["ok"] and "does not match" in reply["error"]
    assert study.paths.codings.read_bytes() == before
    for bad in ({"response_id": "R3", "start": 0, "end": 3, "code": "x"},   # excluded
                {"response_id": "R9", "start": 0, "end": 3, "code": "x"},   # unknown
                {"response_id": "R2", "start": 5, "end": 5, "code": "x"},   # empty span
                {"response_id": "R2", "start": 0, "end": 8, "code": " "}):  # no code
        reply = w.dispatch({"action": "code", **bad})
        assert not reply["ok"] and reply["error"], bad
    assert study.paths.codings.read_bytes() == before
    assert "x" not in json.dumps(_codebook(study).get("codes", []))


def test_uncode_resize_and_segment_memo(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="code", code="unheard", **_span("R1", "unheard"))
    _ok(w, action="code", code="manager", **_span("R1", "my manager"))
    s = TEXTS["R1"].index("unheard")
    _ok(w, action="resize", response_id="R1", code="unheard", start=s, end=s + 7,
        new_start=s - 5, new_end=s + 7)
    rows = _codings(study)
    row = rows[rows["code"] == "unheard"].iloc[0]
    assert (int(row["start"]), row["excerpt"]) == (s - 5, "felt unheard")
    _ok(w, action="annotate", response_id="R1", code="unheard", start=s - 5, end=s + 7,
        memo="strong word")
    assert _codings(study).set_index("code").at["unheard", "memo"] == "strong word"
    _ok(w, action="uncode", response_id="R1", code="manager",
        start=TEXTS["R1"].index("my manager"), end=TEXTS["R1"].index("my manager") + 10)
    assert _codings(study)["code"].tolist() == ["unheard"]
    # removing it again is an error naming the segment, not a silent no-op
    reply = w.dispatch({"action": "uncode", "response_id": "R1", "code": "manager",
                        "start": 0, "end": 3})
    assert not reply["ok"] and "no segment" in reply["error"]


def test_overlapping_segments_are_all_sent(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="code", code="unheard", **_span("R1", "felt unheard by my manager"))
    _ok(w, action="code", code="manager", **_span("R1", "my manager"))
    segs = w.state["page"]["responses"][0]["segments"]
    assert sorted((g["code"], g["start"], g["end"]) for g in segs) == sorted([
        ("unheard", 4, 4 + len("felt unheard by my manager")),
        ("manager", TEXTS["R1"].index("my manager"), TEXTS["R1"].index("my manager") + 10)])


def test_memos_on_a_response_and_on_the_study(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="memo", text="Anger at being ignored, twice.", about="R1")
    _ok(w, action="memo", text="Managers come up in every question.", about=None)
    files = sorted(f for f in study.paths.memos.glob("*.md") if f.name != "README.md")
    assert len(files) == 2
    texts = {f.name: f.read_text(encoding="utf-8") for f in files}
    on_r1 = [t for t in texts.values() if "twice" in t]
    assert len(on_r1) == 1 and "R1" in on_r1[0]
    assert [m["text"] for m in w.state["page"]["responses"][0]["memos"]] == [
        "Anger at being ignored, twice."]
    assert [m["text"] for m in w.state["memos"]] == ["Managers come up in every question."]
    reply = w.dispatch({"action": "memo", "text": "  ", "about": "R1"})
    assert not reply["ok"]
    assert len([f for f in study.paths.memos.glob("*.md") if f.name != "README.md"]) == 2


def test_undo_takes_back_this_views_last_change_only(study: Project) -> None:
    w = CodingWorkspace(study)
    assert not w.dispatch({"action": "undo"})["ok"]
    _ok(w, action="code", code="training", **_span("R2", "Training was useful"))
    _ok(w, action="code", code="kind colleagues", **_span("R2", "my colleagues were kind"))
    _ok(w, action="undo")
    assert _codings(study)["code"].tolist() == ["training"]
    assert [c["id"] for c in _codebook(study)["codes"]] == ["training"]
    # another view (or a notebook call) changes the study: this view's undo refuses
    other = Project.open(study.root)
    other.code("R4", "rotas", excerpt="Rotas come out late")
    reply = w.dispatch({"action": "undo"})
    assert not reply["ok"] and "elsewhere" in reply["error"]
    assert sorted(_codings(study)["code"]) == ["rotas", "training"]


# ---------------------------------------------------------------------------- reading


def test_filters_by_question_group_coded_and_search(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="filter", question="Q change")
    assert w.state["page"]["total"] == 2
    _ok(w, action="filter", question=None, group="Nursing")
    assert w.state["page"]["total"] == 2  # R1, R5 (R3 excluded)
    _ok(w, action="filter", group=None)
    _ok(w, action="code", code="rotas", **_span("R4", "Rotas come out late"))
    _ok(w, action="filter", coded="uncoded")
    assert w.state["page"]["total"] == 3
    _ok(w, action="filter", coded="coded")
    assert [r["id"] for r in w.state["page"]["responses"]] == ["R4"]
    _ok(w, action="filter", coded="all", search="manager")
    _ok(w, action="view", mode="list")
    page = w.state["page"]["responses"]
    assert [r["id"] for r in page] == ["R1", "R5"]
    i = TEXTS["R1"].index("manager")
    assert page[0]["matches"] == [[i, i + 7]]  # code points, after the emoji
    _ok(w, action="filter", search="rota|manager", regex=True)
    assert [r["id"] for r in w.state["page"]["responses"]] == ["R1", "R4", "R5"]
    reply = w.dispatch({"action": "filter", "search": "([", "regex": True})
    assert not reply["ok"] and "regular expression" in reply["error"]
    bad = w.dispatch({"action": "filter", "coded": "maybe"})
    assert not bad["ok"]


# ---------------------------------------------------------------------------- codes


def test_codes_tab_retrieve_rename_merge_define(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="code", code="manager", **_span("R1", "my manager"))
    _ok(w, action="code", code="manager listens", **_span("R5", "My manager listens."))
    _ok(w, action="add_code", name="workload", definition="Too much to do.")
    assert {c["id"]: c["n"] for c in w.state["codes"]} == {
        "manager": 1, "manager-listens": 1, "workload": 0}
    _ok(w, action="retrieve", code="manager")
    rv = w.state["retrieved"]
    assert rv["total"] == 1 and rv["rows"][0]["excerpt"] == "my manager"
    assert rv["rows"][0]["before"].endswith("unheard by ")
    assert not rv["rows"][0]["more_before"] and not rv["rows"][0]["more_after"]
    _ok(w, action="rename_code", code="manager", name="line manager")
    assert {c["id"]: c["name"] for c in _codebook(study)["codes"]}["manager"] == "line manager"
    _ok(w, action="define", id="manager", definition="The person one reports to.")
    _ok(w, action="merge_codes", codes=["manager", "manager-listens"], into="manager")
    cb = _codebook(study)
    assert [c["id"] for c in cb["codes"]] == ["manager", "workload"]
    assert cb["codes"][0]["definition"] == "The person one reports to."
    assert sorted(_codings(study)["code"]) == ["manager", "manager"]
    assert w.state["retrieved"]["total"] == 2
    # a merge needs two codes; nothing is written
    before = study.paths.codebook.read_bytes()
    assert not w.dispatch({"action": "merge_codes", "codes": ["manager"], "into": ""})["ok"]
    assert not w.dispatch({"action": "rename_code", "code": "nope", "name": "x"})["ok"]
    assert study.paths.codebook.read_bytes() == before


# ---------------------------------------------------------------------------- themes


def test_themes_tab_add_move_rename_status_version(study: Project) -> None:
    w = CodingWorkspace(study)
    _ok(w, action="code", code="manager", **_span("R1", "my manager"))
    _ok(w, action="code", code="rotas", **_span("R4", "Rotas come out late"))
    _ok(w, action="add_theme", name="Being looked after", definition="Care from others.")
    _ok(w, action="add_theme", name="Work that leaves no room")
    _ok(w, action="move_code", code="manager", theme="T1")
    _ok(w, action="move_code", code="rotas", theme="T2")
    _ok(w, action="move_code", code="rotas", theme=None)
    _ok(w, action="rename_theme", theme="T1", name="Looked after")
    _ok(w, action="set_status", theme="T1", status="reviewed")
    _ok(w, action="set_status", theme=None, status="reviewed")
    _ok(w, action="save_version", name="first review")
    cb = _codebook(study)
    t1 = next(t for t in cb["themes"] if t["id"] == "T1")
    assert (t1["name"], t1["status"], t1["definition"]) == (
        "Looked after", "reviewed", "Care from others.")
    assert [c["id"] for c in t1["codes"]] == ["manager"]
    assert [c["id"] for c in cb["codes"]] == ["rotas"]
    assert cb["status"] == "reviewed"
    saved = study.versions_dir / "first-review.yaml"
    assert saved.is_file() and (study.versions_dir / "first-review.codings.csv").is_file()
    st = w.state
    assert [(t["id"], t["codes"], t["status"]) for t in st["themes"]] == [
        ("T1", ["manager"], "reviewed"), ("T2", [], "candidate")]
    assert st["versions"] == ["first review"] and st["study"]["map_status"] == "reviewed"
    assert not w.dispatch({"action": "set_status", "theme": "T1", "status": "done"})["ok"]
    assert not w.dispatch({"action": "save_version", "name": "first review"})["ok"]
    assert not w.dispatch({"action": "add_theme", "name": ""})["ok"]


# ---------------------------------------------------------------------------- protocol


def test_comm_messages_get_a_reply_and_errors_are_not_swallowed(study: Project,
                                                                monkeypatch) -> None:
    w = CodingWorkspace(study)
    sent: list[dict] = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append(content))
    w._on_msg(w, {"id": 1, "action": "code", "code": "c", **_span("R2", "Training")}, [])
    w._on_msg(w, {"id": 2, "action": "no_such_thing"}, [])
    w._on_msg(w, {"id": 3, "action": "resize", "response_id": "R2"}, [])  # missing keys
    w._on_msg(w, {"anywidget": "not ours"}, [])
    assert [m["id"] for m in sent] == [1, 2, 3]
    assert sent[0]["ok"] and not sent[1]["ok"] and not sent[2]["ok"]
    assert "no_such_thing" in sent[1]["error"] and "KeyError" in sent[2]["error"]


def test_each_coder_writes_their_own_file(study: Project) -> None:
    w = CodingWorkspace(study, coder="amina")
    _ok(w, action="code", code="training", **_span("R2", "Training was useful"))
    assert _codings(study, "codings-amina.csv")["coder"].tolist() == ["amina"]
    assert _codings(study).empty
    with pytest.raises(Exception, match="coder"):
        CodingWorkspace(study, coder="no spaces allowed")


def test_two_views_coding_alternately_lose_nothing(study: Project) -> None:
    a = CodingWorkspace(Project.open(study.root))
    b = CodingWorkspace(Project.open(study.root))
    words = TEXTS["R2"].split()
    for i, word in enumerate(words):
        view = a if i % 2 == 0 else b
        _ok(view, action="code", code=f"w{i}", **_span("R2", word))
    assert sorted(_codings(study)["excerpt"]) == sorted(words)
    assert len(_codebook(study)["codes"]) == len(words)
    # view a sees b's last segment after a poll
    reply = a.dispatch({"action": "poll"})
    assert reply["ok"]
    assert len(a.state["page"]["responses"][0]["segments"]) == 0  # a shows R1
    _ok(a, action="page", response_id="R2")
    assert len(a.state["page"]["responses"][0]["segments"]) == len(words)
    assert a.dispatch({"action": "poll"}) == {"type": "reply", "id": None, "ok": True,
                                             "message": ""}


def _code_in_process(root: str, coder: str, k: int, start_evt) -> None:  # pragma: no cover
    from thematic.project import Project as P
    from thematic.workspace import CodingWorkspace as W

    w = W(P.open(root), coder=coder)
    start_evt.wait(10)
    text = TEXTS["R2"]
    for i in range(k):
        reply = w.dispatch({"action": "code", "response_id": "R2", "start": i, "end": i + 3,
                            "excerpt": text[i:i + 3], "code": f"{coder} code {i}"})
        assert reply["ok"], reply


def test_two_processes_coding_at_once_lose_nothing(study: Project) -> None:
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    k = 6
    procs = [ctx.Process(target=_code_in_process, args=(str(study.root), c, k, go))
             for c in (study.settings.coder, "second")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    codes = {c["id"] for c in _codebook(study)["codes"]}
    assert len(codes) == 2 * k  # every new code of both processes is in the codebook
    assert len(_codings(study)) == k and len(_codings(study, "codings-second.csv")) == k


# ---------------------------------------------------------------------------- packaging


def test_assets_are_package_data_and_import_thematic_stays_light() -> None:
    import importlib.resources as res

    js = (res.files("thematic") / "data" / "workspace" / "workspace.js").read_text("utf-8")
    css = (res.files("thematic") / "data" / "workspace" / "workspace.css").read_text("utf-8")
    assert "export default" in js and 'role: "combobox"' in js and '"aria-label": "Code"' in js
    assert "Response text" in js and ".tw-seg" in css
    assert CodingWorkspace._esm == js if isinstance(CodingWorkspace._esm, str) else True
    code = "import sys, thematic; print('anywidget' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_tqdm_notebook_bars_can_render_as_widgets() -> None:
    import tqdm.notebook

    assert tqdm.notebook.IProgress is not None  # ipywidgets is installed


def test_reproduce_keeps_a_widget_cell_stable(study: Project) -> None:
    """An executed notebook keeps the workspace's text, not its random model id."""
    import nbformat

    from thematic.reproduce import _scrub

    w = CodingWorkspace(study)
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "w", outputs=[nbformat.v4.new_output("execute_result", data=dict(data),
                                             execution_count=1)])])
    _scrub(nb)
    out = nb.cells[0].outputs[0]["data"]
    assert list(out) == ["text/plain"]
    assert out["text/plain"] == "CodingWorkspace(study='Synthetic study', coder='researcher')"
