"""A study's settings: the small ``thematic.yaml`` file at the root of every study.

A *study* is a folder (see :class:`thematic.project.Project`) holding its data, codebook,
codings, memos, versions, figures and appendix. What differs from one study to another
and is not data lives in ``thematic.yaml``::

    title: Staff experience survey 2026
    group:                     # the variable responses are grouped by, if any
      column: group            # column of the responses table
      label: staff group       # how figures, tables and sentences name it
      order: [Nursing, Medical, Admin]   # order of groups (others follow alphabetically)
    data:
      unit: response           # what one row of the responses table is called
      published: false         # true when the rows are extracts as published by others
      attribution: null        # e.g. "{group} Member": how an extract is attributed
    coding:
      coder: researcher        # the study's own coder (writes corpus/coding/codings.csv)
    context:                   # optional context tables/figures of this study only
      figures: []              # names of context figures (see thematic.figures.CONTEXT_FIGURES)
    random_state: 20230701

Every key is optional except ``title``. Unknown keys are an error naming the key, so a
typo does not silently fall back to a default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import RANDOM_STATE
from .errors import InputError

__all__ = ["SETTINGS_FILE", "StudySettings", "read_settings", "write_settings"]

#: Name of the settings file that marks a folder as a thematic study.
SETTINGS_FILE = "thematic.yaml"

_TOP = ("title", "group", "data", "coding", "context", "random_state")
_GROUP = ("column", "label", "order")
_DATA = ("unit", "published", "attribution")
_CODING = ("coder",)
_CONTEXT = ("figures",)
_CODER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class StudySettings:
    """The settings of one study (``thematic.yaml``).

    Attributes
    ----------
    title : str
        Title of the study, used in the appendix and exports.
    group_column : str
        Column of the responses table holding the group of each response.
    group_label : str
        What a group is called in figures, tables and sentences (``"caucus"``,
        ``"staff group"``); lower case, capitalised where a sentence starts.
    groups : tuple of str
        Order of the groups in figures and tables; groups not listed follow
        alphabetically.
    unit : str
        What one row of the responses table is called in sentences (``"response"``,
        ``"extract"``).
    published : bool
        True when the rows are extracts published by others (the wording then says
        "as published" and attributes each extract with ``attribution``).
    attribution : str or None
        Template of an extract's attribution, with ``{group}`` (e.g. ``"{group} Member"``);
        ``None`` attributes by ``"<Group label>: <group>"``.
    coder : str
        The study's own coder: ``Project.code(..., coder=None)`` codes as this coder,
        in ``corpus/coding/codings.csv``.
    context_figures : tuple of str
        Context figures this study declares (drawn by ``thematic figures``); empty for
        most studies.
    random_state : int
        Seed of every random step of the study.
    """

    title: str
    group_column: str = "group"
    group_label: str = "group"
    groups: tuple[str, ...] = ()
    unit: str = "response"
    published: bool = False
    attribution: str | None = None
    coder: str = "researcher"
    context_figures: tuple[str, ...] = field(default_factory=tuple)
    random_state: int = RANDOM_STATE

    # ------------------------------------------------------------------ wording
    @property
    def group_title(self) -> str:
        """The group label with a capital first letter (``"Staff group"``)."""
        return self.group_label[:1].upper() + self.group_label[1:]

    @property
    def units(self) -> str:
        """Plural of :attr:`unit` (``"responses"``)."""
        u = self.unit
        return u[:-1] + "ies" if u.endswith("y") and u[-2:-1] not in "aeiou" else u + "s"

    def attribute(self, group: Any) -> str:
        """Attribution of an extract from ``group`` (empty when the group is missing)."""
        if group is None or (isinstance(group, float) and group != group) or str(group) in (
                "", "<NA>"):
            return ""
        try:
            import pandas as pd

            if pd.isna(group):
                return ""
        except (TypeError, ValueError):
            pass
        if self.attribution:
            return self.attribution.format(group=str(group).strip())
        return f"{self.group_title}: {str(group).strip()}"

    def with_(self, **changes: Any) -> StudySettings:
        """Return a copy with ``changes`` applied (checked like a settings file)."""
        return settings_from_dict(to_dict(replace(self, **changes)), source="settings")


def _mapping(value: Any, where: str, allowed: Sequence[str], source: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where} must be a mapping, not {type(value).__name__}", path=source)
    for k in value:
        if k not in allowed:
            raise InputError(f"unknown key {k!r} in {where} (allowed: {', '.join(allowed)})",
                             path=source)
    return dict(value)


def _str(value: Any, where: str, source: str, *, default: str | None = None,
         required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InputError(f"missing {where}", path=source)
        return default
    if isinstance(value, (bool, Mapping, list)):
        raise InputError(f"{where} must be text, not {type(value).__name__}", path=source)
    s = str(value).strip()
    if required and not s:
        raise InputError(f"empty {where}", path=source)
    return s


def settings_from_dict(data: Any, *, source: str = SETTINGS_FILE) -> StudySettings:
    """Build :class:`StudySettings` from the parsed YAML, checking every key.

    Raises
    ------
    InputError
        Naming the file and the key at fault.
    """
    top = _mapping(data, "the top level", _TOP, source)
    g = _mapping(top.get("group"), "group", _GROUP, source)
    d = _mapping(top.get("data"), "data", _DATA, source)
    c = _mapping(top.get("coding"), "coding", _CODING, source)
    x = _mapping(top.get("context"), "context", _CONTEXT, source)
    order = g.get("order") or []
    if not isinstance(order, list):
        raise InputError("group.order must be a list of group names", path=source)
    figs = x.get("figures") or []
    if not isinstance(figs, list):
        raise InputError("context.figures must be a list of figure names", path=source)
    published = d.get("published", False)
    if not isinstance(published, bool):
        raise InputError("data.published must be true or false", path=source)
    rs = top.get("random_state", RANDOM_STATE)
    if isinstance(rs, bool) or not isinstance(rs, int) or rs < 0:
        raise InputError(f"random_state must be a whole number >= 0, not {rs!r}", path=source)
    coder = _str(c.get("coder"), "coding.coder", source, default="researcher") or "researcher"
    if not _CODER_RE.match(coder):
        raise InputError(f"coding.coder {coder!r} must be letters, digits, '.', '_' or '-'",
                         path=source)
    attribution = _str(d.get("attribution"), "data.attribution", source)
    if attribution:
        try:
            attribution.format(group="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(f"data.attribution {attribution!r} may only use {{group}} ({exc})",
                             path=source) from None
    return StudySettings(
        title=_str(top.get("title"), "title", source, required=True) or "",
        group_column=_str(g.get("column"), "group.column", source, default="group") or "group",
        group_label=_str(g.get("label"), "group.label", source, default="group") or "group",
        groups=tuple(str(v) for v in order),
        unit=_str(d.get("unit"), "data.unit", source, default="response") or "response",
        published=published,
        attribution=attribution or None,
        coder=coder,
        context_figures=tuple(str(v) for v in figs),
        random_state=rs,
    )


def to_dict(settings: StudySettings) -> dict[str, Any]:
    """Return the YAML structure of ``settings`` (every key written, in a fixed order)."""
    return {
        "title": settings.title,
        "group": {"column": settings.group_column, "label": settings.group_label,
                  "order": list(settings.groups)},
        "data": {"unit": settings.unit, "published": settings.published,
                 "attribution": settings.attribution},
        "coding": {"coder": settings.coder},
        "context": {"figures": list(settings.context_figures)},
        "random_state": settings.random_state,
    }


def read_settings(root: str | os.PathLike[str]) -> StudySettings:
    """Read ``<root>/thematic.yaml``.

    Raises
    ------
    InputError
        If the file is missing, not YAML, or holds an unknown or badly typed key.

    Examples
    --------
    >>> import thematic
    >>> from thematic.settings import read_settings
    >>> study = thematic.examples.load("staff-survey")
    >>> settings = read_settings(study.root)
    >>> settings.title, settings.group_label, len(settings.groups)
    ('Staff experience survey (SYNTHETIC)', 'staff group', 7)
    """
    from .codebook import _read_yaml

    path = Path(root) / SETTINGS_FILE
    if not path.is_file():
        raise InputError(f"no {SETTINGS_FILE}: not a thematic study (create one with "
                         "`thematic init DIR`)", path=path)
    return settings_from_dict(_read_yaml(path), source=str(path))


def write_settings(settings: StudySettings, root: str | os.PathLike[str]) -> Path:
    """Write ``<root>/thematic.yaml`` atomically and deterministically."""
    import yaml

    from .io import atomic_write_text

    text = ("# Settings of this thematic study (see `help(thematic.settings)`).\n"
            + yaml.safe_dump(to_dict(settings), sort_keys=False, allow_unicode=True,
                             width=1_000_000))
    return atomic_write_text(Path(root) / SETTINGS_FILE, text)
