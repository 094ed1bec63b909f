"""The study layer: one folder per study, and every call a researcher codes with.

A **study** is a folder with a settings file, ``thematic.yaml`` (:mod:`thematic.settings`),
and the same layout as this repository::

    thematic.yaml                  settings: title, group variable and its label, ...
    corpus/raw/                    exports as received (git-ignored: identifying)
    corpus/processed/responses.csv the de-identified responses (+ audit.csv)
    corpus/coding/codebook.yaml    codes, themes, sections (thematic.codebook)
    corpus/coding/codings.csv      coded segments of the study's own coder
    corpus/coding/codings-<coder>.csv   coded segments of every other coder
    corpus/coding/versions/        named versions of the map (and of the codings)
    corpus/memos/                  memos and the reflexive journal (Markdown)
    figures/  appendix/  notebooks/

:class:`Project` loads, changes and writes all of it. The stage modules
(:mod:`thematic.codebook`, :mod:`thematic.coding`, :mod:`thematic.figures`, ...) take data
and paths explicitly; this module is the one place that knows where a study keeps them.

Every call that changes the study (:meth:`Project.code`, :meth:`Project.rename_code`,
:meth:`Project.add_theme`, ...) works under the study's lock (read, modify, write: two
processes or two notebook views never lose each other's updates), writes every file it
changes atomically before it returns, and keeps the files as they were in the study's
history, so :meth:`Project.undo` takes it back; named versions
(:meth:`Project.save_version`) keep the map and the codings for good.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .codebook import (
    STATUSES,
    Code,
    Codebook,
    Section,
    Theme,
    diff_codebooks,
    list_versions,
    read_codebook,
    roll_up,
    write_codebook,
)
from .config import ProjectPaths
from .errors import InputError, Problem
from .settings import SETTINGS_FILE, StudySettings, read_settings, write_settings

if TYPE_CHECKING:
    from .refi import RefiExport

__all__ = ["Project", "find_study_root"]

#: How many changes :meth:`Project.undo` can take back.
HISTORY_DEPTH = 200

_CODER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HISTORY = ".history"


# --------------------------------------------------------------------------- finding a study


def find_study_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the root of the study holding ``start`` (default: the working directory).

    ``THEMATIC_PROJECT_ROOT``, when set, wins. Otherwise the first folder at or above
    ``start`` holding ``thematic.yaml`` is the study.

    Raises
    ------
    InputError
        If no study is found.
    """
    env = os.environ.get("THEMATIC_PROJECT_ROOT")
    if env and start is None:
        root = Path(env).resolve()
        if not (root / SETTINGS_FILE).is_file():
            raise InputError(f"THEMATIC_PROJECT_ROOT={env} holds no {SETTINGS_FILE}")
        return root
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / SETTINGS_FILE).is_file():
            return d
    raise InputError(f"no thematic study at or above {here} (looked for {SETTINGS_FILE}); "
                     "pass --project DIR, set THEMATIC_PROJECT_ROOT, or create one with "
                     "`thematic init DIR`")


# --------------------------------------------------------------------------- helpers


def _slug(label: str) -> str:
    s = re.sub(r"[^\w]+", "-", label.strip().lower(), flags=re.UNICODE).strip("-_")
    return s


def _check_coder(coder: str) -> str:
    if not isinstance(coder, str) or not _CODER_RE.match(coder):
        raise InputError(f"coder {coder!r} must be 1-64 letters, digits, '.', '_' or '-' "
                         "(it names a file)")
    return coder


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Exclusive cross-process lock held on ``path`` (a lock file) for the block."""
    from .io import locked

    with locked(path):
        yield


@dataclass(frozen=True)
class Change:
    """One entry of the study's history (what :meth:`Project.undo` takes back)."""

    number: int
    action: str
    files: tuple[str, ...]


# --------------------------------------------------------------------------- the study


class Project:
    """A thematic study: its files, and the calls that read and change them.

    Create one with :meth:`create` or open one with :meth:`open`; do not call the
    constructor directly.

    Parameters
    ----------
    root : pathlib.Path
        The study folder.
    settings : StudySettings
        Its ``thematic.yaml``.
    coder : str, optional
        Default coder of the coding calls of this object (default: the study's own coder,
        ``settings.coder``).

    Examples
    --------
    A ready SYNTHETIC study (:func:`thematic.examples.load`); your own is
    ``thematic.Project.open("my-study")``:

    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> study.settings.title, study.settings.group_label, study.coder
    ('Staff experience survey (SYNTHETIC)', 'staff group', 'researcher')
    >>> thematic.Project.open(study.root, coder="amina").codings_file().name  # another coder
    'codings-amina.csv'
    """

    def __init__(self, root: Path, settings: StudySettings, *, coder: str | None = None) -> None:
        self.root = Path(root)
        self.settings = settings
        self.paths = ProjectPaths(self.root)
        self.coder = _check_coder(coder) if coder is not None else settings.coder
        self._cache: dict[str, tuple[Any, Any]] = {}
        #: Number of the last change this object made (see :meth:`history`, :meth:`undo`).
        self.last_change: int | None = None

    # ------------------------------------------------------------------ create / open
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        title: str,
        group_label: str = "group",
        groups: Sequence[str] = (),
        coder: str = "researcher",
        notebooks: bool = True,
    ) -> Project:
        """Create a new study folder with the standard layout and starter notebooks.

        Parameters
        ----------
        path : str or os.PathLike
            The folder (created; it may exist only if empty).
        title : str
            Title of the study.
        group_label : str
            What the group variable is called (``"staff group"``).
        groups : sequence of str
            Order of the groups in figures and tables.
        coder : str
            The study's own coder.
        notebooks : bool
            Also write the starter notebooks.

        Returns
        -------
        Project

        Raises
        ------
        InputError
            If ``path`` already holds a study or any other file.

        Examples
        --------
        >>> import tempfile, thematic
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     study = thematic.Project.create(f"{folder}/my-study", title="Staff survey 2026",
        ...                                     group_label="staff group")
        ...     print(sorted(p.name for p in study.root.iterdir()))
        ['.gitignore', 'README.md', 'appendix', 'corpus', 'figures', 'notebooks', 'thematic.yaml']
        """
        root = Path(path)
        if (root / SETTINGS_FILE).exists():
            raise InputError("a study already exists here; refusing to overwrite it", path=root)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise InputError("folder is not empty; refusing to create a study over other "
                             "files", path=root)
        if not str(title).strip():
            raise InputError("a study needs a title")
        settings = StudySettings(title=str(title).strip(), group_label=group_label,
                                 groups=tuple(groups), coder=_check_coder(coder))
        from ._templates import write_study_skeleton

        created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
            write_study_skeleton(root, settings, notebooks=notebooks)
            write_settings(settings, root)
        except BaseException:
            if created:
                shutil.rmtree(root, ignore_errors=True)
            else:
                for child in root.iterdir():
                    if child.is_dir():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
            raise
        return cls(root.resolve(), settings)

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *,
             coder: str | None = None) -> Project:
        """Open the study at ``path``, or the one holding the working directory.

        Parameters
        ----------
        path : str or os.PathLike, optional
            The study folder, or any folder inside it; default the working directory
            (``THEMATIC_PROJECT_ROOT`` when set).
        coder : str, optional
            Default coder for the coding calls (default: the study's own coder).

        Returns
        -------
        Project

        Examples
        --------
        >>> import thematic
        >>> example = thematic.examples.load("staff-survey")
        >>> study = thematic.Project.open(example.root / "corpus")  # or any folder inside it
        >>> study.root == example.root, study.settings.group_label
        (True, 'staff group')
        """
        root = find_study_root(path)
        return cls(root, read_settings(root), coder=coder)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r}, title={self.settings.title!r})"

    # ------------------------------------------------------------------ files
    @property
    def lock_file(self) -> Path:
        """What the study's lock protects (the lock itself is ``.codebook.yaml.lock``).

        Every change of the study's coding data holds this one lock, so a change that
        touches the codebook and several codings files is never interleaved with another.
        """
        return self.paths.codebook

    @property
    def versions_dir(self) -> Path:
        """``corpus/coding/versions/``."""
        return self.paths.coding / "versions"

    @property
    def audit_file(self) -> Path:
        """``corpus/processed/audit.csv``: the cleaning and de-identification audit."""
        return self.paths.processed / "audit.csv"

    @property
    def topic_check_file(self) -> Path:
        """``corpus/processed/topic_check.json``."""
        return self.paths.processed / "topic_check.json"

    def codings_file(self, coder: str | None = None) -> Path:
        """Return the codings file of ``coder``.

        The study's own coder (``settings.coder``) codes in ``corpus/coding/codings.csv``;
        every other coder in ``corpus/coding/codings-<coder>.csv``, so two coders never
        write the same file.
        """
        coder = self._coder(coder)
        if coder == self.settings.coder:
            return self.paths.codings
        return self.paths.coding / f"codings-{coder}.csv"

    def _coder(self, coder: str | None) -> str:
        """Return the coder of a call: ``coder`` (checked: it names a file) or this object's."""
        return _check_coder(coder) if coder is not None else self.coder

    def codings_files(self) -> list[Path]:
        """Every codings file of the study, the study coder's first, then by name."""
        files = [self.paths.codings] if self.paths.codings.is_file() else []
        files += sorted(p for p in self.paths.coding.glob("codings-*.csv") if p.is_file())
        return files

    def _cached(self, key: str, path: Path, load: Any) -> Any:
        stamp = _file_key(path)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp and stamp is not None:
            return hit[1]
        value = load()
        self._cache[key] = (stamp, value)
        return value

    # ------------------------------------------------------------------ reading
    @property
    def responses(self) -> pd.DataFrame:
        """Every response of the study (excluded rows too), validated; empty before import.

        ``exclude`` and ``flag_*`` columns are booleans; the study's group column is
        available as ``group``.
        """
        path = self.paths.responses

        def load() -> pd.DataFrame:
            from .coding import read_responses

            if not path.is_file():
                return _empty_responses()
            df = read_responses(path)
            gc = self.settings.group_column
            if gc != "group" and gc in df.columns:
                df = df.assign(group=df[gc])
            if "exclude" not in df.columns:
                df = df.assign(exclude=False)
            return df

        return self._cached("responses", path, load).copy()

    def analysable(self) -> pd.DataFrame:
        """Return the responses left for analysis (``exclude`` false), in order."""
        from .clean import analysable

        return analysable(self.responses)

    @property
    def codebook(self) -> Codebook:
        """The current codebook (``corpus/coding/codebook.yaml``)."""
        path = self.paths.codebook
        if not path.is_file():
            raise InputError("codebook not found (create the study with `thematic init`)",
                             path=path)
        return self._cached("codebook", path, lambda: read_codebook(path))

    def codings(self, coder: str | None = None, *, analysable: bool = False) -> pd.DataFrame:
        """Coded segments of every coder (or of ``coder``), in a stable order.

        Parameters
        ----------
        coder : str, optional
            Only this coder's segments.
        analysable : bool
            Only segments of analysable responses.

        Returns
        -------
        pandas.DataFrame
            The ``codings`` table (:data:`thematic.coding.CODINGS_COLUMNS`).
        """
        from .coding import _sorted, _typed, empty_codings

        files = [self.codings_file(coder)] if coder is not None else self.codings_files()
        frames = [self._read_codings(f) for f in files if f.is_file()]
        frames = [f for f in frames if len(f)]
        df = _sorted(_typed(pd.concat(frames, ignore_index=True))) if frames else empty_codings()
        if coder is not None:
            df = df[df["coder"] == coder].reset_index(drop=True)
        if analysable:
            keep = set(self.analysable()["response_id"])
            df = df[df["response_id"].isin(keep)].reset_index(drop=True)
        return df

    def _read_codings(self, path: Path) -> pd.DataFrame:
        from .coding import read_codings

        def load() -> pd.DataFrame:
            df = read_codings(path)
            if df["start"].isna().any() or df["end"].isna().any():
                df = self._anchor(df, path)
            return df

        return self._cached(f"codings:{path.name}", path, load).copy()

    def _anchor(self, df: pd.DataFrame, path: Path) -> pd.DataFrame:
        """Fill blank offsets of rows that carry an excerpt (unique match in the response)."""
        from .errors import ValidationError

        texts = self._texts()
        problems: list[Problem] = []
        df = df.copy()
        for i in df.index[df["start"].isna() | df["end"].isna()]:
            loc = f"{path} row {i + 2}"
            rid, exc = df.at[i, "response_id"], df.at[i, "excerpt"]
            if pd.isna(exc) or not str(exc):
                problems.append(Problem("missing_value", "blank start/end and no excerpt to "
                                        "anchor", loc))
                continue
            text = texts.get(str(rid))
            if text is None:
                problems.append(Problem("unknown_response", f"response {rid!r} is not in the "
                                        "responses", loc))
                continue
            hits = _occurrences(text, str(exc))
            if len(hits) != 1:
                what = ("not found in" if not hits else
                        f"found {len(hits)} times (at {', '.join(map(str, hits[:5]))}) in")
                problems.append(Problem("excerpt_not_anchored",
                                        f"excerpt {_short(str(exc))!r} {what} {rid}; give "
                                        "start and end", loc))
                continue
            df.at[i, "start"], df.at[i, "end"] = hits[0], hits[0] + len(str(exc))
        if problems:
            raise ValidationError(str(path), problems)
        return df

    def _texts(self) -> dict[str, str]:
        r = self.responses
        return {str(a): ("" if pd.isna(b) else str(b))
                for a, b in zip(r["response_id"], r["text"], strict=True)}

    def memos(self) -> list[Any]:
        """Every memo of the study (``corpus/memos/*.md``), by name."""
        from .coding import read_memos

        if not self.paths.memos.is_dir():
            return []
        return read_memos(self.paths.memos)

    # ------------------------------------------------------------------ overview
    def summary(self) -> pd.DataFrame:
        """Overview the study: responses (all, analysable), codes, themes, segments, coders.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.summary().loc[["analysable responses", "codes", "themes", "coded segments"]]
                             value
        analysable responses   402
        codes                   12
        themes                   5
        coded segments         598
        """
        r = self.responses
        c = self.codings()
        cb = self.codebook
        n_excl = int(r["exclude"].sum()) if len(r) else 0
        analysable_ids = set(r.loc[~r["exclude"], "response_id"])
        rows = {
            "title": self.settings.title,
            f"{self.settings.units} (all rows)": len(r),
            f"analysable {self.settings.units}": len(r) - n_excl,
            f"excluded {self.settings.units}": n_excl,
            "codes": len(cb.codes()),
            "themes": len(cb.themes()),
            "sections": len(cb.sections),
            "coded segments": len(c),
            f"coded analysable {self.settings.units}": int(
                c.loc[c["response_id"].isin(analysable_ids), "response_id"].nunique()),
            "coders": ", ".join(sorted(set(c["coder"].dropna()))) or "none yet",
            "map status": cb.status,
        }
        return pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows))

    def codes(self) -> pd.DataFrame:
        """Every code with its theme, definition and number of segments and responses.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.codes()[["code", "theme_id", "n_segments"]].head(3)
                        code theme_id  n_segments
        0  manager-check-ins       T1          56
        1       peer-support       T1          62
        2     staff-networks       T1          35
        """
        cb = self.codebook
        c = self.codings()
        rows = []
        m = cb.theme_map()
        for sec, node, kind, _, _ in cb._walk():
            if kind != "code":
                continue
            sub = c[c["code"] == node.id]
            rows.append({"code": node.id, "name": node.name, "definition": node.definition,
                         "theme_id": m[node.id][0], "section_id": sec.id if sec else None,
                         "n_segments": len(sub), "n_responses": sub["response_id"].nunique()})
        df = pd.DataFrame(rows, columns=["code", "name", "definition", "theme_id", "section_id",
                                         "n_segments", "n_responses"])
        for col in ("code", "name", "definition", "theme_id", "section_id"):
            df[col] = df[col].astype("string")
        return df

    def themes(self) -> pd.DataFrame:
        """Every top-level theme with its status, section, codes and counts of segments.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.themes()[["theme_id", "name", "n_responses"]]
          theme_id                                name  n_responses
        0       T1                  Being looked after          136
        1       T2  Speaking up feels risky and futile          143
        2       T3            Racism treated as normal           69
        3       T4            Work that leaves no room           75
        4       T5            Distance from leadership           57
        """
        cb = self.codebook
        rolled = roll_up(self.codings(analysable=True), cb, unknown="drop")
        rows = []
        for th in cb.themes():
            sec = cb.section_of(th.id)
            codes = [n.id for _, n, kind, _, _ in _walk_theme(th) if kind == "code"]
            sub = rolled[rolled["theme_id"] == th.id]
            rows.append({"theme_id": th.id, "name": th.name, "status": th.status,
                         "section_id": sec.id if sec else None, "definition": th.definition,
                         "codes": ", ".join(codes), "n_segments": len(sub),
                         "n_responses": sub["response_id"].nunique()})
        df = pd.DataFrame(rows, columns=["theme_id", "name", "status", "section_id",
                                         "definition", "codes", "n_segments", "n_responses"])
        for col in ("theme_id", "name", "status", "section_id", "definition", "codes"):
            df[col] = df[col].astype("string")
        return df

    # ------------------------------------------------------------------ reading aids
    def search(
        self,
        pattern: str,
        *,
        regex: bool = False,
        case: bool = False,
        width: int = 40,
        include_excluded: bool = False,
        max_hits: int = 10_000,
    ) -> pd.DataFrame:
        """Keyword in context: every occurrence of ``pattern`` in the responses.

        Parameters
        ----------
        pattern : str
            Text to find (a regular expression with ``regex=True``).
        regex : bool
            Treat ``pattern`` as a regular expression.
        case : bool
            Match case.
        width : int
            Characters of context on each side.
        include_excluded : bool
            Also search excluded responses.
        max_hits : int
            Stop after this many matches.

        Returns
        -------
        pandas.DataFrame
            ``response_id, group, question, start, end, left, match, right, codes`` (the
            codes already applied to a segment overlapping the match).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> hits = study.search("checks in", width=20)
        >>> len(hits)
        26
        >>> hits[["left", "match", "right", "codes"]].head(2)  # doctest: +NORMALIZE_WHITESPACE
                           left      match                  right              codes
        0  tly my line manager   checks in    with me every week.  manager-check-ins
        1  er. my line manager   checks in    with me every week   manager-check-ins
        """
        if not isinstance(pattern, str) or not pattern:
            raise InputError("search needs a non-empty pattern")
        try:
            rx = re.compile(pattern if regex else re.escape(pattern), 0 if case else re.I)
        except re.error as exc:
            raise InputError(f"search pattern {pattern!r} is not a valid regular expression: "
                             f"{exc}") from None
        r = self.responses if include_excluded else self.analysable()
        spans = _segments_by_response(self.codings())
        rows = []
        for rid, grp, q, text in zip(r["response_id"], r["group"] if "group" in r else
                                     [pd.NA] * len(r), r["question"], r["text"], strict=True):
            if pd.isna(text):
                continue
            text = str(text)
            for m in rx.finditer(text):
                if m.end() == m.start():
                    continue
                s, e = m.span()
                codes = sorted({c for (a, b, c) in spans.get(str(rid), ()) if a < e and b > s})
                rows.append({"response_id": rid, "group": grp, "question": q, "start": s,
                             "end": e, "left": text[max(0, s - width):s], "match": text[s:e],
                             "right": text[e:e + width], "codes": ", ".join(codes)})
                if len(rows) >= max_hits:
                    break
            if len(rows) >= max_hits:
                break
        df = pd.DataFrame(rows, columns=["response_id", "group", "question", "start", "end",
                                         "left", "match", "right", "codes"])
        return _typed_frame(df, ints=("start", "end"))

    def retrieve(self, code: str, *, coder: str | None = None, context: int = 80,
                 include_excluded: bool = False) -> pd.DataFrame:
        """Every segment coded ``code`` (a code, or a theme with all its codes), in context.

        Parameters
        ----------
        code : str
            A code or theme id (or its name).
        coder : str, optional
            Only this coder's segments.
        context : int
            Characters of context before and after each segment.
        include_excluded : bool
            Also segments of excluded responses.

        Returns
        -------
        pandas.DataFrame
            ``response_id, group, question, code, coder, start, end, before, excerpt,
            after, memo`` in response order.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> segments = study.retrieve("peer support", context=20)
        >>> len(segments), segments["excerpt"].iloc[0]
        (62, 'peer support from my team got me through the winter')
        >>> by_code = study.retrieve("T1")["code"].value_counts()  # a theme: all its codes
        >>> by_code.to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'peer-support': 62, 'manager-check-ins': 56, 'access-to-wellbeing-support': 49,
         'staff-networks': 35}
        """
        cb = self.codebook
        cid = self._existing_id(code)
        c = self.codings(coder, analysable=not include_excluded)
        rolled = roll_up(c, cb, unknown="keep")
        kind = cb.kind_of(cid)
        if kind == "theme":
            sub = rolled[(rolled["theme_id"] == cid) | (rolled["code"] == cid)]
        elif kind == "section":
            sub = rolled[rolled["section_id"] == cid]
        else:
            ids = {n.id for _, n, _, _, _ in _walk_theme(cb.find(cid))} if kind == "subtheme" \
                else {cid}
            sub = rolled[rolled["code"].isin(ids)]
        r = self.responses.set_index("response_id")
        rows = []
        for row in sub.itertuples(index=False):
            text = str(r.at[row.response_id, "text"]) if row.response_id in r.index else ""
            s, e = int(row.start), int(row.end)
            rows.append({"response_id": row.response_id,
                         "group": r.at[row.response_id, "group"] if "group" in r.columns
                         and row.response_id in r.index else pd.NA,
                         "question": r.at[row.response_id, "question"]
                         if row.response_id in r.index else pd.NA,
                         "code": row.code, "coder": row.coder, "start": s, "end": e,
                         "before": text[max(0, s - context):s], "excerpt": text[s:e],
                         "after": text[e:e + context], "memo": row.memo})
        df = pd.DataFrame(rows, columns=["response_id", "group", "question", "code", "coder",
                                         "start", "end", "before", "excerpt", "after", "memo"])
        return _typed_frame(df, ints=("start", "end"))

    # ------------------------------------------------------------------ changes: machinery
    @contextlib.contextmanager
    def _change(self, action: str, files: Iterable[Path]) -> Iterator[None]:
        """Lock the study, keep ``files`` as they are in the history, run the change.

        On any error every file is put back as it was (nothing half-written stays).
        """
        files = sorted({Path(f) for f in files})
        self.paths.coding.mkdir(parents=True, exist_ok=True)
        with _flock(self.lock_file):
            self._cache.clear()  # read what is on disk now, under the lock
            entry = self._push_history(action, files)
            try:
                yield
            except BaseException:
                self._restore_entry(entry)
                shutil.rmtree(entry, ignore_errors=True)
                raise
            finally:
                self._cache.clear()
            self.last_change = int(entry.name)

    def _history_dir(self) -> Path:
        return self.paths.coding / _HISTORY

    def _push_history(self, action: str, files: Sequence[Path]) -> Path:
        hist = self._history_dir()
        hist.mkdir(parents=True, exist_ok=True)
        numbers = sorted(int(p.name) for p in hist.iterdir() if p.name.isdigit())
        number = (numbers[-1] + 1) if numbers else 1
        entry = hist / f"{number:08d}"
        tmp = hist / f".{number:08d}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        manifest = []
        for k, f in enumerate(files):
            rel = os.path.relpath(f, self.root)
            if f.is_file():
                shutil.copy2(f, tmp / f"{k}.bak")
                manifest.append({"path": rel, "backup": f"{k}.bak"})
            else:
                manifest.append({"path": rel, "backup": None})
        (tmp / "change.json").write_text(json.dumps({"action": action, "files": manifest},
                                                    indent=1), encoding="utf-8")
        os.replace(tmp, entry)
        for old in numbers[: max(0, len(numbers) + 1 - HISTORY_DEPTH)]:
            shutil.rmtree(hist / f"{old:08d}", ignore_errors=True)
        return entry

    def _restore_entry(self, entry: Path) -> list[str]:
        from .io import atomic_write_bytes

        meta = _read_change(entry)
        restored = []
        for f in meta["files"]:
            target = self.root / f["path"]
            if f["backup"] is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write_bytes(target, (entry / f["backup"]).read_bytes())
            restored.append(f["path"])
        return restored

    def history(self) -> pd.DataFrame:
        """List the changes :meth:`undo` can take back, newest last (``number, action, files``).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.rename_code("safe-staffing", "Enough people on shift")
        'safe-staffing'
        >>> study.set_status("T1", "reviewed")
        >>> study.history()[["number", "action"]]
           number                    action
        0       1      rename safe-staffing
        1       2  status of T1 -> reviewed
        """
        hist = self._history_dir()
        rows = []
        if hist.is_dir():
            for p in sorted(hist.iterdir()):
                if p.name.isdigit():
                    meta = _read_change(p)
                    rows.append({"number": int(p.name), "action": meta["action"],
                                 "files": ", ".join(f["path"] for f in meta["files"])})
        return pd.DataFrame(rows, columns=["number", "action", "files"])

    def undo(self, *, expect: int | None = None) -> str:
        """Take back the last change (restores every file it wrote); returns what it was.

        Parameters
        ----------
        expect : int, optional
            Undo only if the study's last change is this one (a number of
            :meth:`history`, e.g. :attr:`last_change`): a view never takes back a change
            made elsewhere in the meantime (checked under the study's lock).

        Raises
        ------
        InputError
            If there is nothing to undo, or the last change is not ``expect``.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.rename_code("safe-staffing", "Enough people on shift")
        'safe-staffing'
        >>> study.undo()
        'rename safe-staffing'
        >>> study.codebook.find("safe-staffing").name
        'safe staffing'
        """
        with _flock(self.lock_file):
            hist = self._history_dir()
            entries = sorted(p for p in hist.iterdir() if p.name.isdigit()) \
                if hist.is_dir() else []
            if not entries:
                raise InputError("nothing to undo")
            last = entries[-1]
            meta = _read_change(last)
            if expect is not None and int(last.name) != int(expect):
                raise InputError(f"the last change of the study ({meta['action']!r}, number "
                                 f"{int(last.name)}) was made elsewhere after this one "
                                 f"(number {int(expect)}); undo it where it was made first")
            self._restore_entry(last)
            shutil.rmtree(last, ignore_errors=True)
        self._cache.clear()
        return str(meta["action"])

    def _write_codebook(self, cb: Codebook) -> None:
        write_codebook(cb, self.paths.codebook)

    def _write_codings(self, path: Path, df: pd.DataFrame) -> None:
        from .coding import write_codings

        write_codings(df, path)

    def _fresh(self) -> None:
        self._cache.clear()

    # ------------------------------------------------------------------ ids and names
    def _existing_id(self, label: str) -> str:
        """Id of the section/theme/code ``label`` (an id, or a name, case-insensitive)."""
        cb = self.codebook
        if not isinstance(label, str) or not label.strip():
            raise InputError("a code or theme must be named")
        label = label.strip()
        if label in cb.ids():
            return label
        hits = sorted({n.id for _, n, _, _, _ in cb._walk() if n.name.casefold()
                       == label.casefold()} | {s.id for s in cb.sections
                                               if s.name.casefold() == label.casefold()})
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(f"{label!r} names several entries ({', '.join(hits)}); use an id")
        raise InputError(f"no code, theme or section {label!r} in the codebook")

    def _code_id(self, label: str, cb: Codebook, *,
                 codes_only: bool = False) -> tuple[str, str | None]:
        """``(id, name_if_new)`` of the code to apply: an existing id or name, else new."""
        if not isinstance(label, str) or not label.strip():
            raise InputError("a code must be named")
        label = " ".join(label.split())
        ids = cb.ids()
        if label in ids:
            if any(s.id == label for s in cb.sections):
                raise InputError(f"{label!r} is a section; sections are not codable, code to "
                                 "a theme or code")
            return label, None
        named = [(kind, n.id) for _, n, kind, _, _ in cb._walk()
                 if n.name.casefold() == label.casefold()]
        # a code of that name first; a theme's name only where no code has it (and never
        # when collating codes under a theme)
        hits = sorted({i for kind, i in named if kind == "code"})
        if not hits and not codes_only:
            hits = sorted({i for _, i in named})
        if len(hits) == 1:
            return hits[0], None
        if len(hits) > 1:
            raise InputError(f"{label!r} names several codes ({', '.join(hits)}); use an id")
        base = _slug(label) or "code"
        new, k = base, 2
        while new in ids:
            new, k = f"{base}-{k}", k + 1
        return new, label

    # ------------------------------------------------------------------ coding
    def code(
        self,
        response_id: str,
        code: str,
        excerpt: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        coder: str | None = None,
        memo: str | None = None,
        occurrence: int | None = None,
        definition: str | None = None,
    ) -> dict[str, Any]:
        """Code a segment of one response, adding the code to the codebook if it is new.

        Give the segment as ``excerpt`` (its text, found in the response: it must occur
        once, or pass ``occurrence=`` (1-based) or ``start=`` to choose) or as
        ``start``/``end`` offsets.

        Parameters
        ----------
        response_id : str
        code : str
            An existing code or theme id or name; any other text creates a new code
            (without a theme) named by it.
        excerpt : str, optional
            The text of the segment.
        start, end : int, optional
            Character offsets into the response text.
        coder : str, optional
            Default: this object's coder.
        memo : str, optional
            A note on this segment.
        occurrence : int, optional
            Which occurrence of ``excerpt`` (1-based) when it occurs more than once.
        definition : str, optional
            Definition of a new code.

        Returns
        -------
        dict
            The coded segment (``response_id, code, start, end, excerpt, coder, memo``).

        Raises
        ------
        InputError
            Unknown or excluded response, excerpt not found or ambiguous, offsets outside
            the text, an empty segment, or a section named as the code.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> rid = study.search("wellbeing hub")["response_id"].iloc[0]
        >>> segment = study.code(rid, "night work", excerpt="hard to reach on nights")
        >>> segment["code"], segment["excerpt"], segment["coder"]
        ('night-work', 'hard to reach on nights', 'researcher')
        """
        coder = self._coder(coder)
        path = self.codings_file(coder)
        rid, s, e, text = self._locate(response_id, excerpt, start, end, occurrence)
        with self._change(f"code {rid}[{s}:{e}] as {code!r} ({coder})",
                          [path, self.paths.codebook]):
            cb = self.codebook
            cid, new_name = self._code_id(code, cb)
            if new_name is not None:
                cb.codes_without_theme.append(Code(id=cid, name=new_name,
                                                   definition=definition or ""))
                self._write_codebook(cb)
            elif definition is not None:
                node = cb.find(cid)
                node.definition = definition
                self._write_codebook(cb)
            df = self._read_codings(path) if path.is_file() else None
            row = {"response_id": rid, "code": cid, "start": s, "end": e,
                   "excerpt": text[s:e], "coder": coder,
                   "memo": memo if memo else pd.NA}
            from .coding import _typed, empty_codings

            df = df if df is not None else empty_codings()
            dup = _segment(df, rid, cid, s, e) & (df["coder"] == coder).fillna(False).to_numpy()
            if dup.any():
                if memo:
                    df.loc[dup, "memo"] = memo
                    self._write_codings(path, df)
            else:
                self._write_codings(path, pd.concat([_typed(df), _typed(pd.DataFrame([row]))],
                                                    ignore_index=True))
        return {k: (None if v is pd.NA else v) for k, v in row.items()}

    def code_many(self, rows: pd.DataFrame | Iterable[dict[str, Any]], *,
                  coder: str | None = None) -> pd.DataFrame:
        """Code many segments in one change (e.g. a coding list kept in a spreadsheet).

        Each row names ``response_id`` and ``code`` and the segment as ``excerpt``
        (optionally with ``occurrence``) or as ``start`` and ``end``; ``memo`` is
        optional. Every row is checked first: if any is wrong, nothing is written and the
        error lists every bad row.

        Parameters
        ----------
        rows : pandas.DataFrame or iterable of dict
        coder : str, optional
            Default: this object's coder.

        Returns
        -------
        pandas.DataFrame
            The segments added (already coded segments are not added twice).

        Raises
        ------
        ValidationError
            Naming every row that cannot be coded, and why.
        """
        from .coding import _typed, empty_codings
        from .errors import ValidationError

        coder = self._coder(coder)
        table = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        for col in ("response_id", "code"):
            if col not in table.columns:
                raise InputError(f"code_many: missing column {col!r}")

        def get(r: dict, k: str) -> Any:
            v = r.get(k)
            return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v

        located, problems = [], []
        for i, r in enumerate(table.to_dict("records")):
            try:
                rid, s, e, text = self._locate(
                    get(r, "response_id"), get(r, "excerpt"), get(r, "start"), get(r, "end"),
                    get(r, "occurrence"))
            except InputError as exc:
                problems.append(Problem("not_coded", str(exc), f"row {i + 1}"))
                continue
            located.append((rid, s, e, text, str(get(r, "code") or ""), get(r, "memo")))
        if problems:
            raise ValidationError("code_many", problems)
        path = self.codings_file(coder)
        with self._change(f"code {len(located)} segments ({coder})", [path, self.paths.codebook]):
            cb = self.codebook
            ids: dict[str, str] = {}
            grew = False
            for *_, label, _ in located:
                if label in ids:
                    continue
                cid, new_name = self._code_id(label, cb)
                if new_name is not None:
                    cb.codes_without_theme.append(Code(id=cid, name=new_name))
                    grew = True
                ids[label] = cid
            if grew:
                self._write_codebook(cb)
            new = pd.DataFrame([{"response_id": rid, "code": ids[label], "start": s, "end": e,
                                 "excerpt": text[s:e], "coder": coder,
                                 "memo": memo if memo else pd.NA}
                                for rid, s, e, text, label, memo in located])
            old = self._read_codings(path) if path.is_file() else empty_codings()
            key = ["response_id", "code", "start", "end", "coder"]
            new = _typed(new).drop_duplicates(key) if len(new) else empty_codings()
            seen = set(map(tuple, old[key].astype(str).to_numpy()))
            added = new[[tuple(k) not in seen for k in new[key].astype(str).to_numpy()]]
            if len(added):
                self._write_codings(path, pd.concat([_typed(old), added], ignore_index=True))
        return added.reset_index(drop=True)

    def code_matches(self, pattern: str, code: str, *, regex: bool = False, case: bool = True,
                     coder: str | None = None) -> pd.DataFrame:
        """Code every match of ``pattern`` in the analysable responses (text-search coding).

        Like NVivo's or MAXQDA's "code all search results": useful for a phrase the
        researcher has decided always carries a code; read the segments afterwards
        (:meth:`retrieve`) and uncode what does not fit.

        Parameters
        ----------
        pattern : str
            Text (or regular expression with ``regex=True``) to find.
        code : str
            Code id or name (a new name creates the code).
        regex, case : bool
            See :meth:`search`.
        coder : str, optional

        Returns
        -------
        pandas.DataFrame
            The segments added.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> added = study.code_matches("on nights", "night work", case=False)
        >>> len(added), added["code"].iloc[0]
        (81, 'night-work')
        """
        hits = self.search(pattern, regex=regex, case=case, width=0)
        if hits.empty:
            raise InputError(f"{pattern!r} is not found in any analysable response")
        rows = hits[["response_id", "start", "end"]].assign(code=code)
        return self.code_many(rows, coder=coder)

    def _locate(self, response_id: str, excerpt: str | None, start: int | None,
                end: int | None, occurrence: int | None) -> tuple[str, int, int, str]:
        r = self.responses
        rid = str(response_id)
        hit = r[r["response_id"] == rid]
        if hit.empty:
            raise InputError(f"response {rid!r} is not in the study's responses")
        if bool(hit["exclude"].iloc[0]):
            reason = hit["exclude_reason"].iloc[0] if "exclude_reason" in hit.columns else None
            warnings.warn(f"response {rid!r} is excluded from the analysis"
                          + (f" ({reason})" if isinstance(reason, str) and reason else "")
                          + ": the segment is kept, but no count, figure, topic check or "
                          "export includes excluded responses", UserWarning, stacklevel=3)
        text = hit["text"].iloc[0]
        text = "" if pd.isna(text) else str(text)
        if excerpt is not None:
            if not isinstance(excerpt, str) or not excerpt:
                raise InputError("excerpt must be non-empty text")
            hits = _occurrences(text, excerpt)
            if not hits:
                raise InputError(f"excerpt {_short(excerpt)!r} is not in response {rid}")
            if occurrence is not None:
                if not 1 <= int(occurrence) <= len(hits):
                    raise InputError(f"occurrence {occurrence} of {_short(excerpt)!r}: it occurs "
                                     f"{len(hits)} time(s) in {rid}")
                s = hits[int(occurrence) - 1]
            elif start is not None:
                if int(start) not in hits:
                    raise InputError(f"excerpt {_short(excerpt)!r} is not at {start} in {rid} "
                                     f"(it is at {', '.join(map(str, hits[:5]))})")
                s = int(start)
            elif len(hits) > 1:
                raise InputError(f"excerpt {_short(excerpt)!r} occurs {len(hits)} times in {rid} "
                                 f"(at {', '.join(map(str, hits[:5]))}); pass occurrence= "
                                 "or start=")
            else:
                s = hits[0]
            return rid, s, s + len(excerpt), text
        if start is None or end is None:
            raise InputError("give the segment as excerpt= or as start= and end=")
        s, e = _int(start, "start"), _int(end, "end")
        if not 0 <= s < e <= len(text):
            raise InputError(f"offsets {s}:{e} are not a non-empty span of response {rid} "
                             f"(length {len(text)})")
        return rid, s, e, text

    def uncode(self, response_id: str, code: str | None = None, *, start: int | None = None,
               end: int | None = None, excerpt: str | None = None,
               coder: str | None = None) -> int:
        """Remove coded segments of one response; returns how many were removed.

        Parameters
        ----------
        response_id : str
        code : str, optional
            Only segments with this code (id or name); default every code.
        start, end : int, optional
            Only the segment at these offsets.
        excerpt : str, optional
            Only segments with this text.
        coder : str, optional
            Default: this object's coder.

        Raises
        ------
        InputError
            If no segment matches.
        """
        coder = self._coder(coder)
        path = self.codings_file(coder)
        cid = self._existing_id(code) if code is not None else None
        with self._change(f"uncode {response_id} {cid or ''} ({coder})".strip(), [path]):
            df = self._read_codings(path) if path.is_file() else None
            if df is None or df.empty:
                raise InputError(f"coder {coder!r} has no coded segments")
            m = df["response_id"] == str(response_id)
            if cid is not None:
                m &= df["code"] == cid
            if start is not None:
                m &= df["start"] == _int(start, "start")
            if end is not None:
                m &= df["end"] == _int(end, "end")
            if excerpt is not None:
                m &= df["excerpt"] == excerpt
            m = m.fillna(False).to_numpy(dtype=bool)
            if not m.any():
                raise InputError(f"no segment of {response_id} matches (code={cid!r}, "
                                 f"start={start}, end={end}, coder={coder!r})")
            self._write_codings(path, df[~m])
        return int(m.sum())

    def resize(self, response_id: str, code: str, *, start: int, end: int, new_start: int,
               new_end: int, coder: str | None = None) -> dict[str, Any]:
        """Move the ends of a coded segment (extend or shorten it).

        Raises
        ------
        InputError
            If the segment is not found or the new span is empty or outside the text.
        """
        coder = self._coder(coder)
        path = self.codings_file(coder)
        cid = self._existing_id(code)
        rid, s2, e2, text = self._locate(response_id, None, new_start, new_end, None)
        with self._change(f"resize {rid}[{start}:{end}] {cid} to [{s2}:{e2}]", [path]):
            df = self._read_codings(path) if path.is_file() else None
            if df is None:
                raise InputError(f"coder {coder!r} has no coded segments")
            m = _segment(df, rid, cid, start, end)
            if not m.any():
                raise InputError(f"no segment {rid}[{start}:{end}] coded {cid!r} by {coder!r}")
            df.loc[m, "start"], df.loc[m, "end"] = s2, e2
            df.loc[m, "excerpt"] = text[s2:e2]
            self._write_codings(path, df.drop_duplicates(
                ["response_id", "code", "start", "end", "coder"]))
            row = df[m].iloc[0].to_dict()
        return {k: (None if v is pd.NA else v) for k, v in row.items()}

    def annotate(self, response_id: str, code: str, *, start: int, end: int, memo: str,
                 coder: str | None = None) -> None:
        """Set the memo of one coded segment."""
        coder = self._coder(coder)
        path = self.codings_file(coder)
        cid = self._existing_id(code)
        with self._change(f"memo on {response_id}[{start}:{end}] {cid}", [path]):
            df = self._read_codings(path) if path.is_file() else None
            if df is None:
                raise InputError(f"coder {coder!r} has no coded segments")
            m = _segment(df, response_id, cid, start, end)
            if not m.any():
                raise InputError(f"no segment {response_id}[{start}:{end}] coded {cid!r}")
            df.loc[m, "memo"] = memo if memo else pd.NA
            self._write_codings(path, df)

    # ------------------------------------------------------------------ codebook changes
    def _recode_everywhere(self, mapping: dict[str, str]) -> None:
        """Rewrite codes in every coder's file (duplicates that result are dropped)."""
        for path in self.codings_files():
            df = self._read_codings(path)
            if not df["code"].isin(list(mapping)).any():
                continue
            df["code"] = df["code"].map(lambda c: mapping.get(c, c)).astype("string")
            df = df.drop_duplicates(["response_id", "code", "start", "end", "coder"])
            self._write_codings(path, df)

    def add_code(self, name: str, *, code_id: str | None = None, definition: str = "",
                 theme: str | None = None) -> str:
        """Add a code (without segments yet); returns its id.

        Raises
        ------
        InputError
            If the id or name is taken.
        """
        with self._change(f"add code {name!r}", [self.paths.codebook]):
            cb = self.codebook
            if code_id is None:
                cid, new = self._code_id(name, cb)
                if new is None:
                    raise InputError(f"code {name!r} already exists ({cid})")
            else:
                cid = code_id
                _check_id(cid)
                if cid in cb.ids():
                    raise InputError(f"id {cid!r} is already used in the codebook")
            c = Code(id=cid, name=" ".join(name.split()), definition=definition)
            if theme is None:
                cb.codes_without_theme.append(c)
            else:
                t = cb.find(self._existing_id(theme))
                if not isinstance(t, Theme):
                    raise InputError(f"{theme!r} is not a theme")
                t.codes.append(c)
            self._write_codebook(cb)
        return cid

    def define(self, id_: str, definition: str, *, inclusion: str | None = None,
               exclusion: str | None = None) -> None:
        """Set the definition of a code or theme (the description of a section).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.define("peer-support", "Colleagues noticing and covering for each other.",
        ...              exclusion="Support from managers (code: manager check-ins).")
        >>> study.codebook.find("peer-support").exclusion
        'Support from managers (code: manager check-ins).'
        """
        iid = self._existing_id(id_)
        with self._change(f"define {iid}", [self.paths.codebook]):
            cb = self.codebook
            node = cb.find(iid)
            if isinstance(node, Section):
                node.description = definition
            else:
                node.definition = definition
            if isinstance(node, Code):
                if inclusion is not None:
                    node.inclusion = inclusion or None
                if exclusion is not None:
                    node.exclusion = exclusion or None
            self._write_codebook(cb)

    def rename_code(self, code: str, name: str | None = None, *,
                    new_id: str | None = None) -> str:
        """Rename a code (its name; with ``new_id`` also its id, in every codings file).

        Memos keep the ids they were written with (they may refer to earlier versions).

        Returns
        -------
        str
            The code's id after the change.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.rename_code("peer-support", "Colleagues who have my back")
        'peer-support'
        >>> study.codebook.find("peer-support").name
        'Colleagues who have my back'
        """
        cid = self._existing_id(code)
        files = [self.paths.codebook] + (self.codings_files() if new_id else [])
        with self._change(f"rename {cid}", files):
            cb = self.codebook
            node = cb.find(cid)
            if isinstance(node, Section):
                raise InputError(f"{cid!r} is a section; use rename_theme/rename_section")
            if name is not None:
                if not name.strip():
                    raise InputError("a name cannot be empty")
                clash = [n.id for _, n, k, _, _ in cb._walk() if k == "code" and n.id != cid
                         and n.name.casefold() == name.strip().casefold()]
                if clash and isinstance(node, Code):
                    raise InputError(f"code {clash[0]!r} is already named {name!r}; merge "
                                     "the codes instead")
                node.name = " ".join(name.split())
            if new_id is not None and new_id != cid:
                _check_id(new_id)
                if new_id in cb.ids():
                    raise InputError(f"id {new_id!r} is already used in the codebook")
                node.id = new_id
                for r in cb.relations:
                    r.source = new_id if r.source == cid else r.source
                    r.target = new_id if r.target == cid else r.target
                self._write_codebook(cb)
                self._recode_everywhere({cid: new_id})
                return new_id
            self._write_codebook(cb)
        return cid

    rename_theme = rename_code

    def merge_codes(self, codes: Sequence[str], into: str, *, name: str | None = None) -> str:
        """Merge codes into one: their segments are recoded, the merged codes removed.

        Parameters
        ----------
        codes : sequence of str
            Codes to merge (ids or names).
        into : str
            The code that remains: one of ``codes``, another existing code, or a new
            name (a new code is created where the first of ``codes`` is).
        name : str, optional
            New name of the remaining code.

        Returns
        -------
        str
            Id of the remaining code.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.merge_codes(["staff networks"], into="peer support")
        'peer-support'
        >>> len(study.codes()), len(study.retrieve("peer-support"))
        (11, 97)
        """
        if isinstance(codes, str):
            codes = [codes]
        ids = [self._existing_id(c) for c in codes]
        files = [self.paths.codebook, *self.codings_files()]
        with self._change(f"merge {', '.join(ids)} into {into!r}", files):
            cb = self.codebook
            for i in ids:
                if not isinstance(cb.find(i), Code):
                    raise InputError(f"{i!r} is not a code (merge_codes merges codes; to "
                                     "merge themes use merge_themes)")
            target, new_name = self._code_id(into, cb)
            if new_name is not None:
                first = ids[0]
                holder = _holder(cb, first)
                pos = holder.index(cb.find(first))
                holder.insert(pos, Code(id=target, name=new_name))
            elif not isinstance(cb.find(target), (Code, Theme)):
                raise InputError(f"{target!r} is not a code")
            if name:
                cb.find(target).name = " ".join(name.split())
            defs = []
            for i in ids:
                if i == target:
                    continue
                node = cb.find(i)
                if node.definition:
                    defs.append(node.definition)
                _holder(cb, i).remove(node)
            tnode = cb.find(target)
            if not tnode.definition and defs:
                tnode.definition = " / ".join(defs)
            self._write_codebook(cb)
            self._recode_everywhere({i: target for i in ids if i != target})
        return target

    def split_code(self, code: str, new_code: str, segments: Iterable[Any], *,
                   definition: str = "") -> str:
        """Move some segments of ``code`` to a new (or existing) code.

        Parameters
        ----------
        code : str
        new_code : str
            Name (or id) of the code the segments go to; created beside ``code`` if new.
        segments : iterable
            ``(response_id, start, end)`` tuples, or response ids (every segment of
            ``code`` in that response).
        definition : str
            Definition of a new code.

        Returns
        -------
        str
            Id of the new code.
        """
        cid = self._existing_id(code)
        wanted = [tuple(s) if not isinstance(s, str) else (s,) for s in segments]
        if not wanted:
            raise InputError("split_code needs the segments to move")
        files = [self.paths.codebook, *self.codings_files()]
        with self._change(f"split {cid} into {new_code!r}", files):
            cb = self.codebook
            target, new_name = self._code_id(new_code, cb)
            if new_name is not None:
                holder = _holder(cb, cid)
                holder.insert(holder.index(cb.find(cid)) + 1,
                              Code(id=target, name=new_name, definition=definition))
                self._write_codebook(cb)
            moved = 0
            for path in self.codings_files():
                df = self._read_codings(path)
                m = pd.Series(False, index=df.index)
                for w in wanted:
                    k = (df["code"] == cid) & (df["response_id"] == str(w[0]))
                    if len(w) >= 3:
                        k &= (df["start"] == int(w[1])) & (df["end"] == int(w[2]))
                    m |= k.fillna(False)
                if m.any():
                    df.loc[m, "code"] = target
                    moved += int(m.sum())
                    self._write_codings(path, df.drop_duplicates(
                        ["response_id", "code", "start", "end", "coder"]))
            if not moved:
                raise InputError(f"none of the given segments is coded {cid!r}")
        return target

    def delete_code(self, code: str) -> int:
        """Remove a code and its segments (every coder's); returns the segments removed."""
        cid = self._existing_id(code)
        files = [self.paths.codebook, *self.codings_files()]
        removed = 0
        with self._change(f"delete code {cid}", files):
            cb = self.codebook
            node = cb.find(cid)
            if not isinstance(node, Code):
                raise InputError(f"{cid!r} is not a code")
            _holder(cb, cid).remove(node)
            self._write_codebook(cb)
            for path in self.codings_files():
                df = self._read_codings(path)
                m = (df["code"] == cid).fillna(False).to_numpy(dtype=bool)
                if m.any():
                    removed += int(m.sum())
                    self._write_codings(path, df[~m])
        return removed

    # ------------------------------------------------------------------ themes
    def add_theme(
        self,
        theme_id: str,
        name: str,
        codes: Sequence[str] = (),
        *,
        definition: str = "",
        section: str | None = None,
        parent: str | None = None,
        status: str = "candidate",
    ) -> str:
        """Add a (candidate) theme and move codes into it.

        Parameters
        ----------
        theme_id : str
            Stable id (no spaces), e.g. ``"T1"``.
        name : str
        codes : sequence of str
            Codes (ids or names) to collate under the theme; codes not yet in the
            codebook are created.
        definition : str
            The central organising concept.
        section : str, optional
            Section id to place the theme in (default: no section).
        parent : str, optional
            A theme id: add a subtheme of it instead.
        status : {"candidate", "reviewed", "final"}

        Returns
        -------
        str
            The theme id.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.add_theme("T6", "Nights are a different job",
        ...                 codes=["access to wellbeing support"])
        'T6'
        >>> study.themes().set_index("theme_id").loc["T6", ["codes", "n_responses"]].to_dict()
        {'codes': 'access-to-wellbeing-support', 'n_responses': 45}
        """
        _check_id(theme_id)
        if status not in STATUSES:
            raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        if not str(name).strip():
            raise InputError("a theme needs a name")
        with self._change(f"add theme {theme_id}", [self.paths.codebook]):
            cb = self.codebook
            if theme_id in cb.ids():
                raise InputError(f"id {theme_id!r} is already used in the codebook")
            th = Theme(id=theme_id, name=" ".join(str(name).split()), definition=definition,
                       status=status)
            if parent is not None:
                pt = cb.find(self._existing_id(parent))
                if not isinstance(pt, Theme):
                    raise InputError(f"parent {parent!r} is not a theme")
                pt.subthemes.append(th)
            elif section is not None:
                sec = cb.find(self._existing_id(section))
                if not isinstance(sec, Section):
                    raise InputError(f"{section!r} is not a section")
                sec.themes.append(th)
            else:
                cb.themes_without_section.append(th)
            for c in codes:
                cid, new_name = self._code_id(c, cb, codes_only=True)
                if new_name is not None:
                    th.codes.append(Code(id=cid, name=new_name))
                    continue
                node = cb.find(cid)
                if not isinstance(node, Code):
                    raise InputError(f"{c!r} is a theme, not a code; use move_theme")
                _holder(cb, cid).remove(node)
                th.codes.append(node)
            self._write_codebook(cb)
        return theme_id

    def move_code(self, code: str, theme: str | None) -> None:
        """Move a code under another theme (``None``: out of every theme).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.move_code("racism minimised", "T2")
        >>> study.themes().set_index("theme_id").loc["T2", "codes"]  # doctest: +NORMALIZE_WHITESPACE
        'fear-of-being-labelled, futility-of-speaking-up, unclear-route-for-concerns,
        racism-minimised'
        """
        cid = self._existing_id(code)
        with self._change(f"move {cid} to {theme}", [self.paths.codebook]):
            cb = self.codebook
            node = cb.find(cid)
            if not isinstance(node, Code):
                raise InputError(f"{cid!r} is not a code (use move_theme for themes)")
            if theme is None:
                dest = cb.codes_without_theme
            else:
                t = cb.find(self._existing_id(theme))
                if not isinstance(t, Theme):
                    raise InputError(f"{theme!r} is not a theme")
                dest = t.codes
            _holder(cb, cid).remove(node)
            dest.append(node)
            self._write_codebook(cb)

    def move_theme(self, theme: str, section: str | None = None, *,
                   parent: str | None = None) -> None:
        """Move a theme into a section, under another theme (subtheme), or out of both."""
        tid = self._existing_id(theme)
        with self._change(f"move theme {tid}", [self.paths.codebook]):
            cb = self.codebook
            node = cb.find(tid)
            if not isinstance(node, Theme):
                raise InputError(f"{tid!r} is not a theme")
            if parent is not None:
                pid = self._existing_id(parent)
                if pid == tid or pid in {n.id for _, n, _, _, _ in _walk_theme(node)}:
                    raise InputError(f"cannot move {tid!r} under itself")
                pt = cb.find(pid)
                if not isinstance(pt, Theme):
                    raise InputError(f"{parent!r} is not a theme")
                dest = pt.subthemes
            elif section is not None:
                sec = cb.find(self._existing_id(section))
                if not isinstance(sec, Section):
                    raise InputError(f"{section!r} is not a section")
                dest = sec.themes
            else:
                dest = cb.themes_without_section
            _theme_holder(cb, tid).remove(node)
            dest.append(node)
            self._write_codebook(cb)

    def merge_themes(self, themes: Sequence[str], into: str) -> str:
        """Merge themes into ``into``.

        Codes and subthemes move into ``into``; segments coded to a merged theme itself
        are recoded; ``merged_from`` records the merge.
        """
        ids = [self._existing_id(t) for t in themes]
        target = self._existing_id(into)
        files = [self.paths.codebook, *self.codings_files()]
        with self._change(f"merge themes {', '.join(ids)} into {target}", files):
            cb = self.codebook
            tnode = cb.find(target)
            if not isinstance(tnode, Theme):
                raise InputError(f"{target!r} is not a theme")
            for i in ids:
                if i == target:
                    continue
                node = cb.find(i)
                if not isinstance(node, Theme):
                    raise InputError(f"{i!r} is not a theme")
                tnode.codes.extend(node.codes)
                tnode.subthemes.extend(node.subthemes)
                tnode.merged_from.append(i)
                _theme_holder(cb, i).remove(node)
                cb.relations = [r for r in cb.relations if i not in (r.source, r.target)]
            self._write_codebook(cb)
            self._recode_everywhere({i: target for i in ids if i != target})
        return target

    def remove_theme(self, theme: str) -> None:
        """Remove a theme; its codes become codes without a theme (segments kept).

        Raises
        ------
        InputError
            If segments are coded to the theme itself (move or uncode them first).
        """
        tid = self._existing_id(theme)
        with self._change(f"remove theme {tid}", [self.paths.codebook]):
            cb = self.codebook
            node = cb.find(tid)
            if not isinstance(node, Theme):
                raise InputError(f"{tid!r} is not a theme")
            direct = self.codings()
            if (direct["code"] == tid).any():
                raise InputError(f"{int((direct['code'] == tid).sum())} segments are coded to "
                                 f"theme {tid} itself; recode them first (merge_themes)")
            for _, n, kind, _, _ in list(_walk_theme(node)):
                if kind == "code":
                    cb.codes_without_theme.append(n)
            _theme_holder(cb, tid).remove(node)
            cb.relations = [r for r in cb.relations if tid not in (r.source, r.target)]
            self._write_codebook(cb)

    def add_section(self, section_id: str, name: str, themes: Sequence[str] = (), *,
                    description: str = "") -> str:
        """Add a section of the thematic map and move themes into it.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.add_section("WORK", "The work itself", themes=["T4", "T5"])
        'WORK'
        >>> study.themes().dropna(subset="section_id")[["theme_id", "name", "section_id"]]
          theme_id                      name section_id
        0       T4  Work that leaves no room       WORK
        1       T5  Distance from leadership       WORK
        """
        _check_id(section_id)
        with self._change(f"add section {section_id}", [self.paths.codebook]):
            cb = self.codebook
            if section_id in cb.ids():
                raise InputError(f"id {section_id!r} is already used in the codebook")
            sec = Section(id=section_id, name=" ".join(name.split()), description=description)
            cb.sections.append(sec)
            for t in themes:
                tid = self._existing_id(t)
                node = cb.find(tid)
                if not isinstance(node, Theme):
                    raise InputError(f"{t!r} is not a theme")
                _theme_holder(cb, tid).remove(node)
                sec.themes.append(node)
            self._write_codebook(cb)
        return section_id

    def set_status(self, theme: str | None, status: str) -> None:
        """Set a theme's status (``theme=None``: the whole map's): candidate → reviewed → final.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.set_status("T1", "reviewed")
        >>> study.set_status(None, "reviewed")  # the map as a whole
        >>> study.codebook.find("T1").status, study.codebook.status
        ('reviewed', 'reviewed')
        """
        if status not in STATUSES:
            raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        tid = self._existing_id(theme) if theme is not None else None
        with self._change(f"status of {tid or 'the map'} -> {status}", [self.paths.codebook]):
            cb = self.codebook
            if tid is None:
                cb.status = status
            else:
                node = cb.find(tid)
                if not isinstance(node, Theme):
                    raise InputError(f"{tid!r} is not a theme")
                node.status = status
            self._write_codebook(cb)

    # ------------------------------------------------------------------ versions
    def save_version(self, name: str, *, note: str | None = None,
                     overwrite: bool = False) -> Path:
        """Keep the map and every coder's codings as version ``name``.

        Writes ``corpus/coding/versions/<name>.yaml`` (the codebook, its ``version``
        set to ``name``) and ``<name>.codings.csv`` (all coders' segments).

        Returns
        -------
        pathlib.Path
            The codebook file of the version.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.save_version("reviewed-1", note="after the first review").name
        'reviewed-1.yaml'
        >>> study.versions()["label"].tolist()
        ['candidate-1', 'reviewed-1']
        """
        from .codebook import _slug as version_slug
        from .coding import write_codings

        slug = version_slug(name)
        target = self.versions_dir / f"{slug}.yaml"
        ctarget = self.versions_dir / f"{slug}.codings.csv"
        if target.exists() and not overwrite:
            raise InputError(f"version {name!r} exists; choose another name or "
                             "overwrite=True", path=target)
        with self._change(f"save version {name}", [target, ctarget]):
            cb = self.codebook
            snap = Codebook(version=str(name), status=cb.status, sections=cb.sections,
                            relations=cb.relations, title=cb.title,
                            note=note if note is not None else cb.note, date=cb.date,
                            themes_without_section=cb.themes_without_section,
                            codes_without_theme=cb.codes_without_theme)
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            write_codebook(snap, target)
            write_codings(self.codings(), ctarget)
        return target

    def versions(self) -> pd.DataFrame:
        """List the saved versions, oldest first (see :func:`thematic.codebook.list_versions`)."""
        if not self.versions_dir.is_dir():
            return list_versions(self.root / "__none__")
        return list_versions(self.versions_dir)

    def _version(self, name: str | None) -> tuple[Codebook, pd.DataFrame | None]:
        from .codebook import _slug as version_slug
        from .coding import read_codings

        if name is None:
            return self.codebook, self.codings()
        slug = version_slug(name)
        path = self.versions_dir / f"{slug}.yaml"
        if not path.is_file():
            raise InputError(f"no version {name!r}", path=path)
        cpath = self.versions_dir / f"{slug}.codings.csv"
        return read_codebook(path), (read_codings(cpath) if cpath.is_file() else None)

    def diff(self, old: str, new: str | None = None) -> pd.DataFrame:
        """List what changed between version ``old`` and ``new`` (default: the current map).

        See :func:`thematic.codebook.diff_codebooks` (merges and splits are inferred from
        where the segments went when both versions kept their codings).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> study.merge_codes(["staff networks"], into="peer support")
        'peer-support'
        >>> study.move_code("racism minimised", "T2")
        >>> changes = study.diff("candidate-1")
        >>> changes.loc[changes["kind"] != "extract", ["change", "id", "old", "new"]]
            change                id             old   new
        0  removed    staff-networks  staff networks  <NA>
        1    moved  racism-minimised              T3    T2
        >>> changes["change"].value_counts().to_dict()  # and the segments that went to T2
        {'extract_moved': 71, 'removed': 1, 'moved': 1}
        """
        a, ca = self._version(old)
        b, cb_ = self._version(new)
        if ca is None or cb_ is None:
            return diff_codebooks(a, b)
        return diff_codebooks(a, b, ca, cb_)

    def restore_version(self, name: str) -> None:
        """Make version ``name`` the current map and codings again (undoable)."""
        cb, codings = self._version(name)
        files = [self.paths.codebook, *self.codings_files()]
        if codings is not None:
            files += [self.codings_file(c) for c in set(codings["coder"].dropna())
                      if _CODER_RE.match(str(c))]
        with self._change(f"restore version {name}", files):
            self._write_codebook(cb)
            if codings is not None:
                for path in self.codings_files():
                    path.unlink()
                for coder, part in codings.groupby("coder", sort=True):
                    self._write_codings(self.codings_file(str(coder)), part)

    # ------------------------------------------------------------------ memos
    def add_memo(self, text: str, *, about: Sequence[str] = (), author: str | None = None,
                 title: str | None = None, date: str | None = None) -> Path:
        """Write a memo (a familiarisation note, a reflexive journal entry, a code memo).

        Parameters
        ----------
        text : str
            Markdown body.
        about : sequence of str
            Ids it is about: responses, codes, themes (of any version).
        author : str, optional
            Default: this object's coder.
        title : str, optional
            Used in the file name (default: the first words of the text).
        date : str, optional
            ISO date (default: today).

        Returns
        -------
        pathlib.Path
            The memo file (``corpus/memos/<date>-<title>.md``; never overwrites another).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> rid = study.search("wellbeing hub")["response_id"].iloc[0]
        >>> path = study.add_memo("The hub is valued but out of reach on nights.", about=[rid],
        ...                       title="nights", date="2026-03-10")
        >>> path.name, [memo.name for memo in study.memos_about(rid)]
        ('2026-03-10-nights.md', ['2026-03-10-nights'])
        """
        from .coding import Memo
        from .io import atomic_write_text

        if not str(text).strip():
            raise InputError("a memo needs some text")
        date = date or _dt.date.today().isoformat()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise InputError(f"date {date!r} is not YYYY-MM-DD")
        base = _slug(title or " ".join(str(text).split()[:6]))[:60].strip("-") or "memo"
        self.paths.memos.mkdir(parents=True, exist_ok=True)
        name, k = f"{date}-{base}", 2
        while (self.paths.memos / f"{name}.md").exists():
            name, k = f"{date}-{base}-{k}", k + 1
        path = self.paths.memos / f"{name}.md"
        memo = Memo(name=name, date=date, author=author or self.coder,
                    about=[str(a) for a in about], body=str(text))
        with self._change(f"memo {name}", [path]):
            atomic_write_text(path, memo.to_text())
        return path

    def memos_about(self, id_: str) -> list[Any]:
        """Memos about ``id_`` (a response, code or theme id)."""
        return [m for m in self.memos() if id_ in m.about]

    # ------------------------------------------------------------------ checking
    def check(self) -> Any:
        """Check the codebook, every coder's codings and the memos; list every problem.

        Errors: unknown codes or responses, offsets, excerpts, duplicate segments,
        segments of excluded responses. Warnings: analysable responses nobody coded,
        memos about ids found in no version and no response.

        Returns
        -------
        thematic.errors.Report
            ``problems`` (errors, then warnings) and ``table``: every coder's codings,
            corrected as :func:`~thematic.coding.validate_codings` corrects them.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> print(study.check())
        study 'Staff experience survey (SYNTHETIC)': 0 error(s), 0 warning(s)
        """
        from .coding import validate_codings
        from .errors import Report, ValidationError

        cb = self.codebook
        r = self.responses
        problems: list[Problem] = []
        frames = []
        for path in self.codings_files():
            try:
                df = self._read_codings(path)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            rep = validate_codings(df, r, cb, what=str(path))
            problems.extend(p for p in rep.problems if p.kind != "uncoded_response")
            frames.append(rep.table)
        all_codings = pd.concat(frames, ignore_index=True) if frames else None
        excluded = set(r.loc[r["exclude"], "response_id"])
        coded = set()
        if all_codings is not None:
            coded = set(all_codings["response_id"].dropna())
            for rid in sorted(coded & excluded):
                problems.append(Problem("excluded_response", "coded, but excluded from the "
                                        "analysis (see corpus/processed/audit.csv): its "
                                        "segments are left out of every count and output",
                                        f"response {rid}", "warning"))
        for rid in r.loc[~r["exclude"], "response_id"]:
            if rid not in coded:
                problems.append(Problem("uncoded_response", "no segment of this response is "
                                        "coded (phase 2 gives every item equal attention)",
                                        f"response {rid}", "warning"))
        known = cb.ids() | set(r["response_id"])
        if self.versions_dir.is_dir():
            for p in self.versions_dir.glob("*.yaml"):
                with contextlib.suppress(Exception):
                    known |= read_codebook(p).ids()
        memos = []
        if self.paths.memos.is_dir():
            from .coding import parse_memo
            from .io import read_utf8

            for f in sorted(self.paths.memos.glob("*.md")):
                if f.name.lower() == "readme.md":
                    continue
                try:  # one memo at a time, so a broken one does not hide the others
                    memos.append(parse_memo(read_utf8(f, what="memo", with_line=True),
                                            f.stem, source=str(f)))
                except ValidationError as exc:
                    problems.extend(exc.problems)
                except InputError as exc:
                    problems.append(Problem("memo", str(exc), str(f)))
        for m in memos:
            for a in m.about:
                if a not in known:
                    problems.append(Problem("memo_about_unknown", f"about {a!r}, which is in "
                                            "no version of the codebook and no response",
                                            f"memo {m.name}", "warning"))
        from .coding import empty_codings

        errors = [p for p in problems if p.severity != "warning"]
        warns = [p for p in problems if p.severity == "warning"]
        return Report(problems=errors + warns, what=f"study {self.settings.title!r}",
                      table=all_codings if all_codings is not None else empty_codings())

    # ------------------------------------------------------------------ outputs
    def topic_check(self, *, save: bool = True, **kwargs: Any) -> Any:
        """Check the themes against topic models on the analysable responses.

        Keyword arguments go to :func:`thematic.compare.topic_check` (``random_state``
        defaults to the study's). The result is saved to
        ``corpus/processed/topic_check.json`` for the methods paragraph.
        """
        from .compare import topic_check

        kwargs.setdefault("random_state", self.settings.random_state)
        kwargs.setdefault("unit", self.settings.unit)
        resp = self.analysable()
        result = topic_check(resp, self.codings(analysable=True), self.codebook, **kwargs)
        if save:
            from .io import atomic_write_text

            atomic_write_text(self.topic_check_file, result.to_json(ndigits=4))
        return result

    def write_figures(self, directory: str | os.PathLike[str] | None = None) -> list[Path]:
        """Draw the study's figures into ``figures/`` (SVG, PNG, PDF).

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> [p.name for p in study.write_figures() if p.suffix == ".svg"]
        ['thematic_map.svg', 'theme_by_group.svg']
        """
        from .figures import write_figures

        return write_figures(self.codebook, self.codings(analysable=True), self.analysable(),
                             Path(directory) if directory else self.paths.figures,
                             settings=self.settings, root=self.root)

    def write_appendix(self, directory: str | os.PathLike[str] | None = None) -> list[Path]:
        """Write the paper-appendix tables and methods paragraph into ``appendix/``.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> [p.name for p in study.write_appendix()]  # doctest: +NORMALIZE_WHITESPACE
        ['README.md', 'quotes.md', 'quotes.tex', 'quotes.docx', 'codebook.md', 'codebook.tex',
         'codebook.docx', 'methods.md']
        """
        from .report import read_topic_check, write_appendix

        # all rows: the appendix leaves excluded ones out itself and says how many there were
        return write_appendix(Path(directory) if directory else self.paths.appendix,
                              self.responses, self.codings(), self.codebook,
                              settings=self.settings,
                              topic_check=read_topic_check(self.topic_check_file))

    def write_refi(self, path: str | os.PathLike[str], *, include_excluded: bool = False,
                   project_name: str | None = None) -> RefiExport:
        """Write the study as a REFI-QDA project (``.qdpx``) or codebook (``.qdc``).

        A project holds the analysable responses (every response with
        ``include_excluded=True``), every coder's segments, the codebook and the memos.
        NVivo, ATLAS.ti, MAXQDA and QualCoder import it; what they may not read is in
        the result's ``caveats``.

        Returns
        -------
        thematic.refi.RefiExport
            The path written, what it holds, and what a receiving tool may not read.

        Raises
        ------
        InputError
            If ``path`` does not end in ``.qdpx`` or ``.qdc``.
        ValidationError
            If the codings have errors (see :meth:`check`): nothing is written.

        Examples
        --------
        >>> import thematic
        >>> study = thematic.examples.load("staff-survey")
        >>> exported = study.write_refi(study.root / "staff-survey.qdpx")
        >>> exported.n_sources, exported.n_codings, exported.path.name
        (402, 598, 'staff-survey.qdpx')
        >>> thematic.validate_refi(exported.path).ok
        True
        """
        from .errors import ValidationError
        from .refi import write_qdc, write_qdpx

        path = Path(path)
        ext = path.suffix.lower()
        if ext not in {".qdpx", ".qdc"}:
            raise InputError("output must end in .qdpx (project) or .qdc (codebook)", path=path)
        cb = self.codebook
        if ext == ".qdc":
            return write_qdc(cb, path)
        report = self.check()
        if report.errors:
            raise ValidationError(f"{self.root}: refusing to export codings with problems",
                                  report.errors)
        r = self.responses if include_excluded else self.analysable()
        c = self.codings(analysable=not include_excluded)
        return write_qdpx(path, cb, c, r, self.memos(),
                          project_name=project_name or self.settings.title)

    # ------------------------------------------------------------------ import
    def import_export(self, exports: Any, **kwargs: Any) -> Any:
        """Read, clean and de-identify survey export(s) into the study's responses.

        Runs :func:`thematic.survey.prepare_export` (keyword arguments go to it: names,
        organisations, format, text_columns, group_column, salt, ...) and writes
        ``corpus/processed/responses.csv`` and ``audit.csv`` together (undoable). The
        group column of the study's settings is used unless ``group_column`` is given.

        Returns
        -------
        thematic.survey.PreparedExport
            The table, its audit, and the review list of possible unlisted names (kept
            in memory only: it holds plaintext).

        Examples
        --------
        >>> import thematic
        >>> inbox = thematic.examples.load("staff-survey-export")  # an export and the lists
        >>> study = thematic.Project.create(inbox.export.parent / "study", title="Staff survey",
        ...                                 group_label="staff group")
        >>> names = thematic.read_term_list(inbox.names)
        >>> organisations = thematic.read_term_list(inbox.organisations)
        >>> prepared = study.import_export(inbox.export, names=names, organisations=organisations,
        ...                                salt="our-team-secret")
        >>> study.summary().loc[["responses (all rows)", "analysable responses"], "value"].tolist()
        ['456', '402']
        """
        from .survey import prepare_export

        if self.settings.group_column != "group":
            kwargs.setdefault("group_column", self.settings.group_column)
        prepared = prepare_export(exports, **kwargs)
        self.import_responses(prepared.table, prepared.audit)
        return prepared

    def import_responses(self, table: pd.DataFrame, audit: pd.DataFrame | None = None) -> Path:
        """Make ``table`` (cleaned, de-identified) the study's responses, with its audit.

        Both files are written together or not at all.
        """
        from .io import write_csv
        from .schemas import coerce_flags, conform

        table = coerce_flags(table)
        conform(table, "responses", source="responses")
        if "text_raw" in table.columns:
            raise InputError("the table still holds text_raw (identifying); drop it with "
                             "thematic.drop_identifying_columns before importing")
        files = [self.paths.responses, self.audit_file]
        with self._change("import responses", files):
            self.paths.processed.mkdir(parents=True, exist_ok=True)
            write_csv(table, self.paths.responses)
            if audit is not None:
                write_csv(audit, self.audit_file)
        return self.paths.responses


# --------------------------------------------------------------------------- module helpers


def _read_change(entry: Path) -> dict[str, Any]:
    """Read the ``change.json`` of a history entry (action and files)."""
    return json.loads((entry / "change.json").read_text(encoding="utf-8"))


def _segment(df: pd.DataFrame, response_id: Any, code: str, start: Any, end: Any) -> Any:
    """Boolean mask of the rows of a codings table that are this segment of this code."""
    return ((df["response_id"] == str(response_id)) & (df["code"] == code)
            & (df["start"] == int(start)) & (df["end"] == int(end))
            ).fillna(False).to_numpy(dtype=bool)


def _empty_responses() -> pd.DataFrame:
    cols = ["response_id", "respondent_id", "question", "group", "session", "text"]
    df = pd.DataFrame({c: pd.Series([], dtype="string") for c in cols})
    df["exclude"] = pd.Series([], dtype=bool)
    return df


def _typed_frame(df: pd.DataFrame, ints: Sequence[str] = ()) -> pd.DataFrame:
    for c in df.columns:
        df[c] = df[c].astype("int64") if c in ints else df[c].astype("string")
    return df


def _occurrences(text: str, excerpt: str) -> list[int]:
    out, pos = [], text.find(excerpt)
    while pos != -1:
        out.append(pos)
        pos = text.find(excerpt, pos + 1)
    return out


def _short(s: str, n: int = 50) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _int(v: Any, what: str) -> int:
    if isinstance(v, bool):
        raise InputError(f"{what} must be a whole number, not {v!r}")
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a whole number, not {v!r}") from None
    if i != v and not isinstance(v, str):
        raise InputError(f"{what} must be a whole number, not {v!r}")
    return i


def _check_id(id_: str) -> None:
    if not isinstance(id_, str) or not id_.strip() or re.search(r"\s", id_):
        raise InputError(f"id {id_!r} must be non-empty and without spaces")


def _walk_theme(th: Theme) -> Iterator[tuple[None, Any, str, str, int]]:
    yield None, th, "theme", "", 0
    for c in th.codes:
        yield None, c, "code", th.id, 1
    for s in th.subthemes:
        yield from _walk_theme(s)


def _holder(cb: Codebook, code_id: str) -> list[Code]:
    """Return the list holding code ``code_id`` (a theme's codes or the loose codes)."""
    if any(c.id == code_id for c in cb.codes_without_theme):
        return cb.codes_without_theme
    for t in cb.all_themes():
        if any(c.id == code_id for c in t.codes):
            return t.codes
    raise InputError(f"no code {code_id!r} in the codebook")


def _theme_holder(cb: Codebook, theme_id: str) -> list[Theme]:
    """Return the list holding theme ``theme_id`` (a section's, a theme's subthemes, loose)."""
    for s in cb.sections:
        if any(t.id == theme_id for t in s.themes):
            return s.themes
    if any(t.id == theme_id for t in cb.themes_without_section):
        return cb.themes_without_section
    for t in cb.all_themes():
        if any(s.id == theme_id for s in t.subthemes):
            return t.subthemes
    raise InputError(f"no theme {theme_id!r} in the codebook")


def _segments_by_response(codings: pd.DataFrame) -> dict[str, list[tuple[int, int, str]]]:
    out: dict[str, list[tuple[int, int, str]]] = {}
    for rid, s, e, c in zip(codings["response_id"], codings["start"], codings["end"],
                            codings["code"], strict=True):
        if pd.isna(s) or pd.isna(e):
            continue
        out.setdefault(str(rid), []).append((int(s), int(e), str(c)))
    return out
