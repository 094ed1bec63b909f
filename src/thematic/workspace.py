"""The coding workspace: read, code, retrieve and develop themes inside a notebook.

:class:`CodingWorkspace` is a notebook widget (an `anywidget <https://anywidget.dev>`_:
plain ES-module JavaScript shipped with the package, no front-end build, rendered by
JupyterLab 4, Notebook 7 and VS Code) for Braun & Clarke's phases 1-5 on a study
(:class:`thematic.project.Project`):

* **Read and code**: the responses one at a time or as a list, filtered by question,
  group, coded/uncoded and a search whose matches are highlighted (excluded responses
  hidden unless asked); familiarisation memos on a response or on the study. Select a
  passage with the mouse or the keyboard, pick a code in the combobox labelled ``Code``
  (or type a new one) and press Enter. Coded segments are highlighted, overlaps
  visibly; a click on one shows its codes: remove a code, extend the span, add a memo.
  Undo takes back this view's last change.
* **Codes**: every code with its counts and definition; every segment of a code in
  context; rename, merge, define.
* **Themes**: candidate themes with their codes; move a code to a theme (a picker, or
  drag and drop); name and define themes; status candidate -> reviewed -> final; save
  a named version; a small live thematic map.

Nothing is written here: every change is a call of the study layer
(:meth:`Project.code`, :meth:`Project.rename_code`, :meth:`Project.move_code`, ...),
which holds the study's lock and writes atomically before it returns. The view shows a
change as done only when the kernel has answered that it was written; an error is
shown, never swallowed. Each coder codes in their own codings file
(:meth:`Project.codings_file`), and two views on one study do not lose each other's
updates (each change re-reads the files under the lock; the view re-reads them after
every change and every few seconds).

The front end receives only what it shows: one page of responses (one response, or
:data:`PAGE_SIZE` in the list view), the code and theme lists and, when asked, one page
of retrieved segments. Character offsets are counted in Unicode code points, as Python
and ``codings.csv`` count them; the front end converts them to and from JavaScript's
UTF-16 units.

The front-end protocol (for tests and other front ends): the front end sends custom
messages ``{"id": n, "action": NAME, ...}``; the kernel runs the action
(:meth:`CodingWorkspace.dispatch`), updates the synced ``state`` trait and answers
``{"type": "reply", "id": n, "ok": bool, "message" | "error": str}``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import pandas as pd
import traitlets

from .errors import InputError, ThematicError, check_option
from .project import Project

__all__ = ["CodingWorkspace", "PAGE_SIZE", "RETRIEVE_PAGE"]

_log = logging.getLogger(__name__)

_ASSETS = Path(__file__).parent / "data" / "workspace"

#: Responses per page in the list view.
PAGE_SIZE = 25
#: Segments per page of the Codes tab's retrieval.
RETRIEVE_PAGE = 50
#: Longest memo text sent to the front end (longer memos are cut, with a mark).
_MEMO_CHARS = 2000
_STATUSES = ("candidate", "reviewed", "final")


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _s(v: Any) -> str | None:
    """Return a cell as text (None for a missing value)."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _short(s: str, n: int = 40) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


class CodingWorkspace(anywidget.AnyWidget):
    """Read, code, retrieve and develop themes of a study, in a notebook cell.

    Display it as the value of a cell. Every change goes through the study layer
    (:class:`thematic.project.Project`) and is on disk before the view shows it.

    Parameters
    ----------
    project : Project or str or os.PathLike
        The study (or its folder).
    coder : str, optional
        Who codes in this view (default: the project's coder, normally the study's own
        coder). Each coder has their own codings file.
    page_size : int
        Responses per page in the list view.
    mode : {"one", "list"}
        Show one response at a time (default) or a page of them.

    Attributes
    ----------
    project : Project
    coder : str
    state : dict
        What the front end shows (one page); synced to the front end.

    Examples
    --------
    In a notebook, the cell ``thematic.CodingWorkspace(study, coder="amina")`` shows it:

    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> workspace = thematic.CodingWorkspace(study, coder="amina")
    >>> workspace.coder, len(workspace.state["codes"]), len(workspace.state["themes"])
    ('amina', 12, 5)
    """

    _esm = _asset("workspace.js")
    _css = _asset("workspace.css")
    state = traitlets.Dict().tag(sync=True)

    def __init__(self, project: Project | str | os.PathLike[str], coder: str | None = None,
                 *, page_size: int = PAGE_SIZE, mode: str = "one") -> None:
        if not isinstance(project, Project):
            project = Project.open(project)
        if coder is not None:
            project.codings_file(coder)  # checks the name (it names a file)
        check_option("mode", mode, ("one", "list"))
        if int(page_size) < 1:
            raise InputError(f"page_size must be at least 1, not {page_size!r}")
        self.project = project
        self.coder = coder or project.coder
        self._page_size = int(page_size)
        self._mode = mode
        self._filters: dict[str, Any] = {"question": None, "group": None, "coded": "all",
                                         "search": "", "regex": False, "excluded": False,
                                         "others": False}
        self._ids: list[str] = []
        self._pos = 0
        self._retrieve: dict[str, Any] | None = None
        self._mine: list[int] = []
        self._search_cache: tuple[tuple, dict[str, list[list[int]]]] | None = None
        self._rev = 0
        self._stamps: tuple = ()
        self._lists_cache: tuple[tuple, dict[str, Any]] | None = None
        super().__init__()
        self._apply_filters()
        self.state = self._snapshot()
        self.on_msg(self._on_msg)

    def __repr__(self) -> str:
        """Name the study and the coder (the text shown where widgets do not render)."""
        return (f"CodingWorkspace(study={self.project.settings.title!r}, "
                f"coder={self.coder!r})")

    # ------------------------------------------------------------------ protocol
    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or "action" not in content:
            return  # not ours (anywidget's own commands use other keys)
        reply = self.dispatch(content)
        self.send(reply)

    def dispatch(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run one action of the front end; update :attr:`state`; return the reply.

        Parameters
        ----------
        message : dict
            ``{"action": NAME, ...arguments}`` (and an ``id`` echoed in the reply).

        Returns
        -------
        dict
            ``{"type": "reply", "id": ..., "ok": True, "message": str}`` after the
            change is written, or ``{"ok": False, "error": str}``: nothing was changed.
        """
        mid = message.get("id")
        action = str(message.get("action", ""))
        handler: Callable[[dict[str, Any]], str] | None = getattr(
            self, f"_do_{action}", None) if re.fullmatch(r"[a-z_]+", action) else None
        if handler is None:
            return {"type": "reply", "id": mid, "ok": False,
                    "error": f"unknown action {action!r}"}
        try:
            text = handler(message)
        except (ThematicError, ValueError, KeyError, TypeError) as exc:
            error = str(exc) if isinstance(exc, ThematicError) else \
                f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, ThematicError):
                _log.exception("workspace action %s failed", action)
            self._safe_refresh()
            return {"type": "reply", "id": mid, "ok": False, "error": error}
        except Exception as exc:  # noqa: BLE001 - shown to the user, and logged
            _log.exception("workspace action %s failed", action)
            self._safe_refresh()
            return {"type": "reply", "id": mid, "ok": False,
                    "error": f"{type(exc).__name__}: {exc}"}
        if text is None:  # nothing changed on disk or in view (a poll)
            return {"type": "reply", "id": mid, "ok": True, "message": ""}
        self.state = self._snapshot()
        return {"type": "reply", "id": mid, "ok": True, "message": text}

    def refresh(self) -> None:
        """Re-read the study and re-apply the filters (what the Refresh button does)."""
        self.project._fresh()
        self._apply_filters(keep=True)
        self.state = self._snapshot()

    def _safe_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - the reply already carries the first error
            _log.exception("workspace refresh failed")

    def _changed(self) -> str:
        """Remember the change this view just made (for its undo)."""
        if self.project.last_change is not None:
            self._mine.append(self.project.last_change)
        return ""

    # ------------------------------------------------------------------ filters & paging
    def _apply_filters(self, *, keep: bool = False) -> None:
        """Freeze the list of responses the filters select (until they change)."""
        current = self._current_id() if keep else None
        r = self.project.responses
        f = self._filters
        m = np.ones(len(r), dtype=bool)
        if not f["excluded"]:
            m &= ~r["exclude"].to_numpy(dtype=bool)
        for key, col in (("question", "question"), ("group", "group")):
            if f[key] and col in r.columns:
                m &= (r[col] == f[key]).fillna(False).to_numpy(dtype=bool)
        if f["coded"] in ("coded", "uncoded"):
            coded = r["response_id"].isin(
                set(self.project.codings(self.coder)["response_id"])).to_numpy(dtype=bool)
            m &= coded if f["coded"] == "coded" else ~coded
        if f["search"]:
            hits = self._matches()
            m &= r["response_id"].isin(set(hits)).to_numpy(dtype=bool)
        self._ids = [str(x) for x in r.loc[m, "response_id"]]
        if current is not None and current in self._ids:
            self._pos = self._ids.index(current)
            if self._mode == "list":
                self._pos -= self._pos % self._page_size
        elif not keep:
            self._pos = 0
        self._pos = max(0, min(self._pos, max(0, len(self._ids) - 1)))

    def _matches(self) -> dict[str, list[list[int]]]:
        """Search hits per response (code-point offsets), cached per pattern and file."""
        f = self._filters
        if not f["search"]:
            return {}
        path = self.project.paths.responses
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        key = (f["search"], bool(f["regex"]), bool(f["excluded"]), stamp)
        if self._search_cache is None or self._search_cache[0] != key:
            hits = self.project.search(f["search"], regex=bool(f["regex"]), width=0,
                                       include_excluded=bool(f["excluded"]),
                                       max_hits=10_000_000)
            out: dict[str, list[list[int]]] = {}
            for rid, s, e in zip(hits["response_id"], hits["start"], hits["end"],
                                 strict=True):
                out.setdefault(str(rid), []).append([int(s), int(e)])
            self._search_cache = (key, out)
        return self._search_cache[1]

    def _size(self) -> int:
        return 1 if self._mode == "one" else self._page_size

    def _current_id(self) -> str | None:
        return self._ids[self._pos] if 0 <= self._pos < len(self._ids) else None

    def _do_filter(self, msg: dict[str, Any]) -> str:
        f = self._filters
        for key in ("question", "group"):
            if key in msg:
                f[key] = msg[key] or None
        if "coded" in msg:
            check_option("coded", msg["coded"], ("all", "coded", "uncoded"))
            f["coded"] = msg["coded"]
        if "search" in msg:
            f["search"] = str(msg["search"] or "").strip()
        for key in ("regex", "excluded", "others"):
            if key in msg:
                f[key] = bool(msg[key])
        if f["search"] and f["regex"]:
            try:
                re.compile(f["search"])
            except re.error as exc:
                raise InputError(f"search {f['search']!r} is not a valid regular expression: "
                                 f"{exc}") from None
        self._apply_filters()
        n = len(self._ids)
        return f"{n} {self.project.settings.unit if n == 1 else self.project.settings.units} " \
               "match the filters"

    def _do_view(self, msg: dict[str, Any]) -> str:
        mode = msg.get("mode")
        check_option("view", mode, ("one", "list"))
        self._mode = mode
        if mode == "list":
            self._pos -= self._pos % self._page_size
        units = self.project.settings.units
        return (f"showing {units} one at a time" if mode == "one" else
                f"showing up to {self._page_size} {units} a page")

    def _do_page(self, msg: dict[str, Any]) -> str:
        n = len(self._ids)
        if "response_id" in msg:
            rid = str(msg["response_id"])
            if rid not in self._ids:
                # show it even if the filters hide it: clear them
                self._filters.update(question=None, group=None, coded="all", search="",
                                     excluded=True)
                self._apply_filters()
                if rid not in self._ids:
                    raise InputError(f"response {rid!r} is not in the study")
            self._pos = self._ids.index(rid)
        elif "index" in msg:
            self._pos = int(msg["index"])
        else:
            self._pos += int(msg.get("delta", 0)) * self._size()
        self._pos = max(0, min(self._pos, max(0, n - 1)))
        if self._mode == "list":
            self._pos -= self._pos % self._page_size
        return ""

    def _do_refresh(self, _msg: dict[str, Any]) -> str:
        self.project._fresh()
        self._apply_filters(keep=True)
        return "re-read the study's files"

    def _file_stamps(self) -> tuple:
        p = self.project
        files = [p.paths.codebook, p.paths.responses, *p.codings_files()]
        stamps = []
        for f in files:
            try:
                st = f.stat()
                stamps.append((f.name, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                stamps.append((f.name, None, None))
        for name, d in (("memos", p.paths.memos), ("versions", p.versions_dir)):
            if d.is_dir():
                stamps.append((name, d.stat().st_mtime_ns, len(os.listdir(d))))
        return tuple(stamps)

    def _do_poll(self, _msg: dict[str, Any]) -> str | None:
        """Re-read the study if another view or process changed it (else nothing)."""
        if self._file_stamps() == self._stamps:
            return None
        return ""

    # ------------------------------------------------------------------ coding
    def _span(self, msg: dict[str, Any]) -> tuple[str, int, int]:
        rid = str(msg["response_id"])
        start, end = int(msg["start"]), int(msg["end"])
        excerpt = msg.get("excerpt")
        if excerpt is not None:
            r = self.project.responses
            hit = r.loc[r["response_id"] == rid, "text"]
            if hit.empty:
                raise InputError(f"response {rid!r} is not in the study's responses")
            text = _s(hit.iloc[0]) or ""
            if text[start:end] != excerpt:
                raise InputError(f"the selection ({start}:{end}) does not match the text of "
                                 f"{rid} on disk ({_short(text[start:end])!r} there, "
                                 f"{_short(excerpt)!r} selected); it changed: refresh")
        return rid, start, end

    def _do_code(self, msg: dict[str, Any]) -> str:
        rid, start, end = self._span(msg)
        label = str(msg.get("code") or "").strip()
        if not label:
            raise InputError("type or pick a code first")
        r = self.project.responses
        if bool(r.loc[r["response_id"] == rid, "exclude"].any()):
            # the view shows excluded responses to read only: they are not coded here
            raise InputError(f"response {rid!r} is excluded from the analysis (see the audit); "
                             "it is shown to read, not to code")
        row = self.project.code(rid, label, start=start, end=end, coder=self.coder,
                                memo=msg.get("memo") or None)
        self._changed()
        return f"coded “{_short(row['excerpt'])}” as {self._name(row['code'])}"

    def _do_uncode(self, msg: dict[str, Any]) -> str:
        rid = str(msg["response_id"])
        n = self.project.uncode(rid, str(msg["code"]), start=int(msg["start"]),
                                end=int(msg["end"]), coder=self.coder)
        self._changed()
        return f"removed {self._name(str(msg['code']))} from {n} segment(s) of {rid}"

    def _do_resize(self, msg: dict[str, Any]) -> str:
        rid = str(msg["response_id"])
        row = self.project.resize(rid, str(msg["code"]), start=int(msg["start"]),
                                  end=int(msg["end"]), new_start=int(msg["new_start"]),
                                  new_end=int(msg["new_end"]), coder=self.coder)
        self._changed()
        return f"segment is now “{_short(row['excerpt'])}” ({row['start']}:{row['end']})"

    def _do_annotate(self, msg: dict[str, Any]) -> str:
        rid = str(msg["response_id"])
        memo = str(msg.get("memo") or "").strip()
        self.project.annotate(rid, str(msg["code"]), start=int(msg["start"]),
                              end=int(msg["end"]), memo=memo, coder=self.coder)
        self._changed()
        return "segment memo saved" if memo else "segment memo removed"

    def _do_memo(self, msg: dict[str, Any]) -> str:
        text = str(msg.get("text") or "")
        about = msg.get("about")
        about_ids = [str(about)] if about else []
        title = f"familiarisation {about}" if about else "familiarisation study"
        path = self.project.add_memo(text, about=about_ids, author=self.coder, title=title)
        self._changed()
        return f"memo saved ({path.name})"

    def _do_undo(self, _msg: dict[str, Any]) -> str:
        if not self._mine:
            raise InputError("nothing to undo: this view has made no change yet")
        what = self.project.undo(expect=self._mine[-1])
        self._mine.pop()
        self._apply_filters(keep=True)
        return f"undone: {what}"

    # ------------------------------------------------------------------ codes
    def _name(self, code_id: str) -> str:
        try:
            return f"“{self.project.codebook.find(code_id).name}”"
        except (InputError, KeyError, AttributeError):
            return f"“{code_id}”"

    def _do_add_code(self, msg: dict[str, Any]) -> str:
        cid = self.project.add_code(str(msg.get("name") or ""),
                                    definition=str(msg.get("definition") or ""))
        self._changed()
        return f"added code {self._name(cid)}"

    def _do_retrieve(self, msg: dict[str, Any]) -> str:
        code = msg.get("code")
        if not code:
            self._retrieve = None
            return ""
        cid = self.project._existing_id(str(code))
        limit = int(msg.get("limit") or RETRIEVE_PAGE)
        self._retrieve = {"code": cid, "limit": max(1, limit)}
        return ""

    def _do_rename_code(self, msg: dict[str, Any]) -> str:
        old = self._name(str(msg["code"]))
        cid = self.project.rename_code(str(msg["code"]), str(msg.get("name") or ""))
        self._changed()
        return f"renamed {old} to {self._name(cid)}"

    def _do_define(self, msg: dict[str, Any]) -> str:
        iid = str(msg["id"])
        self.project.define(iid, str(msg.get("definition") or "").strip())
        self._changed()
        return f"definition of {self._name(iid)} saved"

    def _do_merge_codes(self, msg: dict[str, Any]) -> str:
        codes = [str(c) for c in msg.get("codes") or []]
        into = str(msg.get("into") or "").strip()
        if len(codes) < 2 and not (codes and into and into not in codes):
            raise InputError("choose at least two codes to merge (or one and a new name)")
        if not into:
            raise InputError("choose the code to merge into")
        names = ", ".join(self._name(c) for c in codes)
        target = self.project.merge_codes(codes, into)
        self._changed()
        if self._retrieve and self._retrieve["code"] in codes:
            self._retrieve["code"] = target
        return f"merged {names} into {self._name(target)}"

    # ------------------------------------------------------------------ themes
    def _do_add_theme(self, msg: dict[str, Any]) -> str:
        name = str(msg.get("name") or "").strip()
        ids = self.project.codebook.ids()
        k = 1
        while f"T{k}" in ids:
            k += 1
        tid = self.project.add_theme(f"T{k}", name, codes=[str(c) for c in msg.get("codes")
                                                             or []],
                                     definition=str(msg.get("definition") or "").strip())
        self._changed()
        return f"added candidate theme {self._name(tid)} ({tid})"

    def _do_move_code(self, msg: dict[str, Any]) -> str:
        theme = msg.get("theme") or None
        self.project.move_code(str(msg["code"]), theme)
        self._changed()
        where = self._name(str(theme)) if theme else "no theme"
        return f"moved {self._name(str(msg['code']))} to {where}"

    def _do_rename_theme(self, msg: dict[str, Any]) -> str:
        old = self._name(str(msg["theme"]))
        tid = self.project.rename_theme(str(msg["theme"]), str(msg.get("name") or ""))
        self._changed()
        return f"renamed theme {old} to {self._name(tid)}"

    def _do_set_status(self, msg: dict[str, Any]) -> str:
        theme = msg.get("theme") or None
        status = str(msg.get("status"))
        self.project.set_status(theme, status)
        self._changed()
        return f"status of {self._name(str(theme)) if theme else 'the map'} is now {status}"

    def _do_save_version(self, msg: dict[str, Any]) -> str:
        name = str(msg.get("name") or "").strip()
        if not name:
            raise InputError("a version needs a name")
        path = self.project.save_version(name, note=msg.get("note") or None)
        self._changed()
        return f"saved version {name!r} ({path.name})"

    # ------------------------------------------------------------------ the state
    def _snapshot(self) -> dict[str, Any]:
        """Return what the front end shows: one page, the codes and themes; no more."""
        p = self.project
        s = p.settings
        self._rev += 1
        self._stamps = self._file_stamps()
        r = p.responses
        own = p.codings(self.coder)
        shown_codings = p.codings() if self._filters["others"] else own
        n = len(self._ids)
        size = self._size()
        self._pos = max(0, min(self._pos, max(0, n - 1)))
        page_ids = self._ids[self._pos:self._pos + size]
        by_id = r.set_index("response_id", drop=False)
        page_ids = [i for i in page_ids if i in by_id.index]
        segs = shown_codings[shown_codings["response_id"].isin(page_ids)]
        seg_by: dict[str, list[dict[str, Any]]] = {}
        for row in segs.itertuples(index=False):
            if pd.isna(row.start) or pd.isna(row.end):
                continue
            seg_by.setdefault(str(row.response_id), []).append({
                "code": str(row.code), "start": int(row.start), "end": int(row.end),
                "coder": _s(row.coder), "memo": _s(row.memo)})
        matches = self._matches()
        memos = p.memos()
        page = []
        for rid in page_ids:
            row = by_id.loc[rid]
            page.append({
                "id": rid, "question": _s(row.get("question")), "group": _s(row.get("group")),
                "exclude": bool(row.get("exclude", False)),
                "reason": _s(row.get("exclude_reason")) if "exclude_reason" in by_id else None,
                "text": _s(row.get("text")) or "",
                "segments": seg_by.get(rid, []),
                "matches": matches.get(rid, []),
                "memos": [self._memo(m) for m in memos if rid in m.about],
            })
        lists = self._lists()
        from .coding import group_order

        state: dict[str, Any] = {
            "rev": self._rev,
            "study": {"title": s.title, "coder": self.coder, "group_label": s.group_label,
                      "unit": s.unit, "units": s.units, "map_status": p.codebook.status},
            "filters": dict(self._filters),
            "options": {
                "questions": [str(q) for q in pd.unique(r["question"].dropna())]
                if "question" in r.columns else [],
                "groups": [str(g) for g in group_order(r["group"], s.groups)]
                if "group" in r.columns else [],
            },
            "counts": {"responses": len(r), "excluded": int(r["exclude"].sum()),
                       "analysable": int((~r["exclude"]).sum()), "matching": n,
                       "segments": len(own),
                       "coded": int(own["response_id"].nunique())},
            "page": {"mode": self._mode, "start": self._pos, "size": size, "total": n,
                     "responses": page},
            **lists,
            "memos": [self._memo(m) for m in memos if not m.about][-5:],
            "can_undo": bool(self._mine),
            "retrieved": self._retrieved(),
        }
        return state

    def _lists(self) -> dict[str, Any]:
        """Return the codes, themes and versions (re-read when a file of the study changed)."""
        if self._lists_cache is not None and self._lists_cache[0] == self._stamps:
            return self._lists_cache[1]
        p = self.project
        codes, themes, versions = p.codes(), p.themes(), p.versions()
        out = {
            "codes": [{"id": str(c.code), "name": str(c.name),
                       "definition": _s(c.definition) or "", "theme": _s(c.theme_id),
                       "n": int(c.n_segments), "nr": int(c.n_responses)}
                      for c in codes.itertuples(index=False)],
            "themes": [{"id": str(t.theme_id), "name": str(t.name), "status": str(t.status),
                        "definition": _s(t.definition) or "",
                        "codes": [c for c in (_s(t.codes) or "").split(", ") if c],
                        "n": int(t.n_segments), "nr": int(t.n_responses)}
                       for t in themes.itertuples(index=False)],
            "versions": [str(v) for v in versions["version"].fillna(versions["label"])]
            if len(versions) else [],
        }
        self._lists_cache = (self._stamps, out)
        return out

    @staticmethod
    def _memo(m: Any) -> dict[str, Any]:
        body = str(m.body).strip()
        if len(body) > _MEMO_CHARS:
            body = body[:_MEMO_CHARS] + " […]"
        return {"name": m.name, "date": m.date, "author": m.author, "text": body}

    def _retrieved(self) -> dict[str, Any] | None:
        if not self._retrieve:
            return None
        try:
            df = self.project.retrieve(self._retrieve["code"], context=80)
        except InputError:
            self._retrieve = None
            return None
        limit = self._retrieve["limit"]
        page = df.head(limit)
        r = self.project.responses
        lengths = dict(zip(r["response_id"], r["text"].fillna("").str.len(), strict=True))
        rows = [{"response_id": str(x.response_id), "group": _s(x.group),
                 "question": _s(x.question), "code": str(x.code), "coder": _s(x.coder),
                 "start": int(x.start), "end": int(x.end), "before": _s(x.before) or "",
                 "excerpt": _s(x.excerpt) or "", "after": _s(x.after) or "",
                 "more_before": int(x.start) > len(_s(x.before) or ""),
                 "more_after": int(x.end) + len(_s(x.after) or "")
                 < int(lengths.get(x.response_id, 0)),
                 "memo": _s(x.memo)}
                for x in page.itertuples(index=False)]
        return {"code": self._retrieve["code"], "total": len(df), "limit": limit,
                "rows": rows}
