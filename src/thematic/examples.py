"""SYNTHETIC example data, generated on demand (no real person's words or names).

:func:`load` gives an example behind one call, in a folder of its own, so that every
example in the documentation starts from one line::

    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")   # a ready thematic.Project
    >>> study.summary().loc["coded segments", "value"]
    '598'

:func:`names` lists the examples (:func:`describe` says what each holds).

:func:`staff_survey` writes a SYNTHETIC Qualtrics export of a staff survey (three open
questions, a seven-level staff group, names and e-mail addresses in the metadata and in
some answers, a preview row, blank and "n/a" answers, one resubmission), the lists of
names and organisations a research team would keep for de-identification, and a coding
plan (which excerpt of which answer carries which code, and the candidate themes). It is
what the how-to notebooks and the tests use to walk a study through every phase.

Everything is generated deterministically from ``random_state``: the same call writes
the same bytes.
"""

from __future__ import annotations

import atexit
import csv
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .config import RANDOM_STATE
from .errors import InputError

if TYPE_CHECKING:
    from .project import Project

__all__ = ["StaffSurvey", "staff_survey", "load", "names", "describe", "STAFF_GROUPS",
           "CANDIDATE_THEMES", "EXAMPLE_SALT"]

#: The seven staff groups of the SYNTHETIC survey, in the order figures show them.
STAFF_GROUPS: tuple[str, ...] = (
    "Nursing and midwifery",
    "Medical and dental",
    "Allied health professionals",
    "Healthcare scientists",
    "Administrative and clerical",
    "Estates and ancillary",
    "General management",
)

_QUESTIONS = {
    "Q2": "What has helped you feel supported at work over the last year?",
    "Q3": "What, if anything, gets in the way of raising a concern about how you are treated?",
    "Q4": "What one change would make the biggest difference to your working life?",
}

# question -> list of (excerpt, code name). Each answer is built from one or two of them.
_FRAGMENTS: dict[str, list[tuple[str, str]]] = {
    "Q2": [
        ("my line manager checks in with me every week", "manager check-ins"),
        ("my manager asks how I am and means it", "manager check-ins"),
        ("peer support from my team got me through the winter", "peer support"),
        ("colleagues cover for each other when someone is struggling", "peer support"),
        ("the staff network gave me people who understand", "staff networks"),
        ("the wellbeing hub is there but hard to reach on nights", "access to wellbeing support"),
        ("counselling through occupational health was quick to arrange",
         "access to wellbeing support"),
    ],
    "Q3": [
        ("I worry about being seen as a troublemaker", "fear of being labelled"),
        ("people who complain get a reputation", "fear of being labelled"),
        ("nothing changes when we speak up", "futility of speaking up"),
        ("concerns disappear into a process and we never hear back", "futility of speaking up"),
        ("I do not know who I am meant to tell", "unclear route for concerns"),
        ("the person I would report to is part of the problem", "unclear route for concerns"),
        ("comments about my accent are treated as banter", "racism minimised"),
        ("when a patient was racist to me it was brushed off", "racism minimised"),
    ],
    "Q4": [
        ("more staff on every shift", "safe staffing"),
        ("enough people on the rota to take a proper break", "safe staffing"),
        ("rotas published six weeks ahead so I can plan childcare", "predictable rotas"),
        ("flexible working requests that are actually approved", "flexible working"),
        ("senior leaders who come and see the work we do", "visible leadership"),
        ("directors who walk the wards and listen", "visible leadership"),
        ("a named person outside my team to take concerns to", "unclear route for concerns"),
        ("training for managers on responding to racism", "racism minimised"),
    ],
}

#: Candidate themes of the SYNTHETIC study: (id, name, codes, definition).
CANDIDATE_THEMES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("T1", "Being looked after", ("manager check-ins", "peer support", "staff networks",
                                  "access to wellbeing support"),
     "Support that staff experience as care: from managers, colleagues and networks, and "
     "whether formal wellbeing support can be reached."),
    ("T2", "Speaking up feels risky and futile", ("fear of being labelled",
                                                  "futility of speaking up",
                                                  "unclear route for concerns"),
     "Raising a concern is weighed against the cost to the person raising it and the "
     "belief that nothing will change."),
    ("T3", "Racism treated as normal", ("racism minimised",),
     "Racist remarks and behaviour are reframed as banter or part of the job."),
    ("T4", "Work that leaves no room", ("safe staffing", "predictable rotas",
                                        "flexible working"),
     "Staffing and rotas that leave no time to rest, plan a life or care for others."),
    ("T5", "Distance from leadership", ("visible leadership",),
     "Senior leaders experienced as absent from the places where care happens."),
)

_OPENERS = ("", "Honestly, ", "To be fair ", "Mostly ", "I would say ", "For me ",
            "This year ", "On my ward ", "In our team ", "Since the restructure ")
_CLOSERS = ("", "", " this year", " on nights", " most of the time", " in my experience",
            " if I am honest", " to be fair", " for our team", " for people like me")
_JOINERS = (" and ", ". Also ", ", but ", ". ")
_NAMES = ("Amara Okafor", "Tomasz Zieliński", "Priya Raman", "Grace Mensah", "Li Wei",
          "Siobhan Kelly", "Yusuf Hassan", "Joanna Brooks")
_TITLES = ("Sister", "Dr", "Matron", "Mr", "Ms")
_ORGS = ("Northfield Trust", "Riverside Community Health")
_NON_ANSWERS = ("n/a", "No comment", "-", "nothing to add")


@dataclass(frozen=True)
class StaffSurvey:
    """Paths of the SYNTHETIC staff-survey files written by :func:`staff_survey`.

    Attributes
    ----------
    export : pathlib.Path
        The Qualtrics CSV export (three header rows).
    names, organisations : pathlib.Path
        The team's lists for de-identification (one term per line).
    coding_plan : pathlib.Path
        CSV ``respondent, question, excerpt, code``: what a coder would code in each
        answer (``respondent`` is the export's ``ResponseId``).
    """

    export: Path
    names: Path
    organisations: Path
    coding_plan: Path


def _answer(rng: np.random.Generator, q: str, plan: list[dict], rid: str) -> str:
    frags = _FRAGMENTS[q]
    k = 1 if rng.random() < 0.55 else 2
    picks = rng.choice(len(frags), size=k, replace=False)
    parts = []
    for j in picks:
        excerpt, code = frags[int(j)]
        parts.append(excerpt)
        plan.append({"respondent": rid, "question": _QUESTIONS[q], "excerpt": excerpt,
                     "code": code})
    text = str(rng.choice(_OPENERS)) + parts[0] + str(rng.choice(_CLOSERS))
    if len(parts) == 2:
        text += str(rng.choice(_JOINERS)) + parts[1] + str(rng.choice(_CLOSERS))
    text = text[0].upper() + text[1:]
    r = rng.random()
    if r < 0.10:
        who = f"{rng.choice(_TITLES)} {rng.choice(_NAMES)}"
        text += f". {who} was the one who made a difference"
    elif r < 0.14:
        name = str(rng.choice(_NAMES))
        mail = name.lower().replace(" ", ".").replace("ń", "n") + "@example.org"
        text += f". Happy to talk more: {mail}"
    elif r < 0.18:
        text += f" at {rng.choice(_ORGS)}"
    return text + "."


def staff_survey(
    directory: str | os.PathLike[str],
    *,
    n: int = 150,
    random_state: int = RANDOM_STATE,
) -> StaffSurvey:
    """Write the SYNTHETIC staff survey into ``directory``.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder to write into (created if missing).
    n : int
        Number of respondents (a preview row and one resubmission are added).
    random_state : int
        Seed of the generator.

    Returns
    -------
    StaffSurvey

    Examples
    --------
    >>> import tempfile
    >>> from thematic.examples import staff_survey
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = staff_survey(folder, n=20)
    ...     print(files.export.name, len(files.export.read_text(encoding="utf-8").splitlines()))
    synthetic-qualtrics-staff-survey.csv 25
    """
    from .io import atomic_write_text

    if int(n) < 10:
        raise InputError(f"n must be at least 10, not {n}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    meta = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
            "Finished", "RecordedDate", "ResponseId", "RecipientLastName",
            "RecipientFirstName", "RecipientEmail", "ExternalReference", "LocationLatitude",
            "LocationLongitude", "DistributionChannel", "UserLanguage"]
    questions = ["Q1", *_QUESTIONS]
    header = meta + questions
    text_row = meta[:8] + ["Response ID", "Recipient Last Name", "Recipient First Name",
                           "Recipient Email", "External Data Reference", "Location Latitude",
                           "Location Longitude", "Distribution Channel", "User Language",
                           "Which staff group do you belong to?", *_QUESTIONS.values()]
    import_ids = ["startDate", "endDate", "status", "ipAddress", "progress", "duration",
                  "finished", "recordedDate", "_recordId", "recipientLastName",
                  "recipientFirstName", "recipientEmail", "externalDataReference",
                  "locationLatitude", "locationLongitude", "distributionChannel",
                  "userLanguage", "QID1", "QID2_TEXT", "QID3_TEXT", "QID4_TEXT"]
    import_row = [f'{{"ImportId":"{h}"}}' for h in import_ids]
    rows: list[list[str]] = []
    plan: list[dict] = []
    base = pd.Timestamp("2026-03-02 09:00:00")
    for i in range(int(n)):
        rid = f"R_{i + 1:04d}SYN"
        group = STAFF_GROUPS[int(rng.integers(len(STAFF_GROUPS)))]
        first, last = str(rng.choice(_NAMES)).split(" ", 1)
        start = base + pd.Timedelta(minutes=int(i * 37 + rng.integers(0, 30)))
        dur = int(rng.integers(120, 900))
        answers = []
        for q in _QUESTIONS:
            r = rng.random()
            if r < 0.06:
                answers.append("")
            elif r < 0.10:
                answers.append(str(rng.choice(_NON_ANSWERS)))
            else:
                answers.append(_answer(rng, q, plan, rid))
        rows.append([
            start.strftime("%Y-%m-%d %H:%M:%S"),
            (start + pd.Timedelta(seconds=dur)).strftime("%Y-%m-%d %H:%M:%S"),
            "IP Address", f"192.0.2.{i % 250 + 1}", "100", str(dur), "True",
            (start + pd.Timedelta(seconds=dur)).strftime("%Y-%m-%d %H:%M:%S"), rid, last,
            first, f"{first.lower()}.{last.lower().replace('ń', 'n')}@example.org", "",
            "53.80", "-1.55", "email", "EN", group, *answers,
        ])
    # a resubmission of respondent 3 (same recipient, later, same answers)
    again = list(rows[2])
    again[8] = f"R_{int(n) + 1:04d}SYN"
    again[0] = again[7] = (pd.Timestamp(rows[2][0]) + pd.Timedelta(days=1)).strftime(
        "%Y-%m-%d %H:%M:%S")
    rows.append(again)
    # a survey preview by the team
    preview = list(rows[0])
    preview[2], preview[8] = "Survey Preview", f"R_{int(n) + 2:04d}SYN"
    rows.append(preview)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows([header, text_row, import_row, *rows])
    export = out / "synthetic-qualtrics-staff-survey.csv"
    atomic_write_text(export, buf.getvalue())
    names = out / "synthetic-names.txt"
    atomic_write_text(names, "# SYNTHETIC names\n" + "\n".join(_NAMES) + "\n")
    orgs = out / "synthetic-organisations.txt"
    atomic_write_text(orgs, "# SYNTHETIC organisations\n" + "\n".join(_ORGS) + "\n")
    plan_path = out / "synthetic-coding-plan.csv"
    from .io import write_csv

    write_csv(pd.DataFrame(plan, columns=["respondent", "question", "excerpt", "code"]),
              plan_path)
    return StaffSurvey(export=export, names=names, organisations=orgs, coding_plan=plan_path)


# --------------------------------------------------------------------------- load(name)

#: Salt of the pseudonyms of the example studies (fixed: the same call gives the same study).
EXAMPLE_SALT = "SYNTHETIC-example-salt"
_TITLE = "Staff experience survey (SYNTHETIC)"
_SECOND_CODER = "amina"
_DESCRIPTIONS: dict[str, str] = {
    "staff-survey": "a ready study of the SYNTHETIC staff survey: 150 respondents imported, "
                    "cleaned and de-identified, 12 codes applied, 5 candidate themes, "
                    "version 'candidate-1' saved (a thematic.Project)",
    "staff-survey-export": "the SYNTHETIC staff survey as received: the Qualtrics export, "
                           "the team's name and organisation lists and the coding plan, "
                           "uncoded (a StaffSurvey of paths)",
    "several-coders": "the 'staff-survey' study with a second coder, 'amina', who coded the "
                      "first 40 respondents and decided some things differently "
                      "(a thematic.Project)",
}
_templates: dict[str, Path] = {}
_temporary: list[Path] = []


def names() -> list[str]:
    """List the names :func:`load` accepts, each with what it gives.

    Returns
    -------
    list of str
        Example names, in the order a researcher would meet them.

    Examples
    --------
    >>> import thematic
    >>> thematic.examples.names()
    ['staff-survey', 'staff-survey-export', 'several-coders']
    """
    return list(_DESCRIPTIONS)


def describe(name: str) -> str:
    """Say in one line what the example ``name`` holds.

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    str

    Raises
    ------
    InputError
        If ``name`` is not an example.

    Examples
    --------
    >>> import thematic
    >>> print(thematic.examples.describe("staff-survey-export"))  # doctest: +ELLIPSIS
    the SYNTHETIC staff survey as received: the Qualtrics export, ...
    """
    _check_name(name)
    return _DESCRIPTIONS[name]


def _check_name(name: str) -> None:
    if name not in _DESCRIPTIONS:
        raise InputError(f"no example {name!r}; the examples are: {', '.join(_DESCRIPTIONS)}")


def load(name: str, *, directory: str | os.PathLike[str] | None = None
         ) -> Project | StaffSurvey:
    """Load a SYNTHETIC example, ready to use, in a folder of its own.

    Every call gives a fresh copy: change it freely. The examples are built the first time
    they are asked for in a process (a few seconds) and copied afterwards.

    ``"staff-survey"``
        A :class:`thematic.Project`: the SYNTHETIC staff survey (:func:`staff_survey`,
        150 respondents, three open questions, seven staff groups) imported with
        :meth:`~thematic.Project.import_export` (cleaned and de-identified with the
        team's lists, pseudonyms salted with :data:`EXAMPLE_SALT`), every phrase of its
        coding plan coded (:meth:`~thematic.Project.code_matches`: 12 codes), the
        :data:`CANDIDATE_THEMES` added (5 themes), and the map and codings saved as
        version ``"candidate-1"``. Its history starts empty: :meth:`~thematic.Project.undo`
        takes back only what you change.
    ``"staff-survey-export"``
        A :class:`StaffSurvey`: the files a team starts from (the Qualtrics export, the
        name and organisation lists, the coding plan), nothing imported or coded.
    ``"several-coders"``
        The ``"staff-survey"`` study with a second coder, ``"amina"``
        (``corpus/coding/codings-amina.csv``), who coded the first 40 respondents with
        the same plan but decided some things differently (the staff network as peer
        support; no code for a wish for training) and missed a few segments: material
        for :func:`thematic.disagreements` and a reflexive discussion.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    directory : str or os.PathLike, optional
        Where to put the example: the study folder (or, for ``"staff-survey-export"``,
        the folder of the files); created, and it may exist only if empty. Default: a
        new temporary folder, removed when Python exits.

    Returns
    -------
    thematic.Project or StaffSurvey

    Raises
    ------
    InputError
        If ``name`` is not an example (the message lists them) or ``directory`` is not
        empty.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> study.settings.title
    'Staff experience survey (SYNTHETIC)'
    >>> len(study.codes()), len(study.themes())
    (12, 5)
    >>> files = thematic.examples.load("staff-survey-export")
    >>> files.export.name
    'synthetic-qualtrics-staff-survey.csv'
    >>> thematic.examples.load("published")
    Traceback (most recent call last):
    ...
    thematic.errors.InputError: no example 'published'; the examples are: staff-survey, \
staff-survey-export, several-coders
    """
    _check_name(name)
    target = _target(directory, name)
    if name == "staff-survey-export":
        return staff_survey(target)
    from .project import Project

    template = _templates.get(name)
    if template is None or not template.is_dir():
        template = _build(name)
        _templates[name] = template
    shutil.copytree(template, target, symlinks=True, dirs_exist_ok=True)
    return Project.open(target)


def _target(directory: str | os.PathLike[str] | None, name: str) -> Path:
    if directory is None:
        base = Path(tempfile.mkdtemp(prefix=f"thematic-example-{name}-"))
        _remember(base)
        return base / name
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("folder is not empty; an example is loaded only into a new or "
                         "empty folder", path=target)
    return target


def _remember(path: Path) -> None:
    if not _temporary:
        atexit.register(_clean_up)
    _temporary.append(path)


def _clean_up() -> None:
    while _temporary:
        shutil.rmtree(_temporary.pop(), ignore_errors=True)


def _build(name: str) -> Path:
    """Build the example ``name`` once in a private temporary folder; return its path."""
    base = Path(tempfile.mkdtemp(prefix=f"thematic-example-template-{name}-"))
    _remember(base)
    if name == "several-coders":
        root = base / name
        shutil.copytree(_build_staff_survey(base), root, symlinks=True)
        _add_second_coder(root)
    else:
        root = _build_staff_survey(base)
    return root


def _build_staff_survey(base: Path) -> Path:
    from .deidentify import read_term_list
    from .project import Project

    if "staff-survey" in _templates and _templates["staff-survey"].is_dir():
        return _templates["staff-survey"]
    inbox = staff_survey(base / "inbox")
    study = Project.create(base / "staff-survey", title=_TITLE, group_label="staff group",
                           groups=STAFF_GROUPS)
    study.import_export(inbox.export, names=read_term_list(inbox.names),
                        organisations=read_term_list(inbox.organisations), salt=EXAMPLE_SALT)
    study.code_many(_plan_rows(study, inbox.coding_plan))
    for theme_id, theme_name, codes, definition in CANDIDATE_THEMES:
        study.add_theme(theme_id, theme_name, codes=list(codes), definition=definition)
    study.save_version("candidate-1", note="candidate themes after coding")
    shutil.rmtree(study._history_dir(), ignore_errors=True)  # the example starts afresh
    shutil.rmtree(base / "inbox", ignore_errors=True)
    _templates["staff-survey"] = study.root
    return study.root


def _plan_rows(study: Project, plan_path: Path, *, respondents: int | None = None,
               decisions: dict[str, tuple[str, str] | None] | None = None,
               skip_every: int = 0) -> pd.DataFrame:
    """Every match of each phrase of the coding plan, as rows for ``code_many``.

    What :meth:`~thematic.Project.code_matches` does phrase by phrase (``case=False``),
    in one change. ``respondents`` keeps the first so many respondents (in the order of
    the responses); ``decisions`` maps a phrase to ``(phrase coded, code)`` instead, or
    to ``None`` (not coded); ``skip_every`` leaves out every n-th segment.
    """
    from .io import read_csv

    plan = read_csv(plan_path)[["excerpt", "code"]].drop_duplicates()
    keep = None
    if respondents is not None:
        r = study.analysable()
        keep = set(r.loc[r["respondent_id"].isin(
            r["respondent_id"].drop_duplicates().iloc[:respondents]), "response_id"])
    frames = []
    for phrase, code in plan.itertuples(index=False):
        if decisions and phrase in decisions:
            decided = decisions[phrase]
            if decided is None:
                continue
            phrase, code = decided
        hits = study.search(phrase, case=False, width=0)
        if keep is not None:
            hits = hits[hits["response_id"].isin(keep)]
        frames.append(hits[["response_id", "start", "end"]].assign(code=code))
    table = pd.concat(frames, ignore_index=True)
    if skip_every:
        table = table[[i % skip_every != skip_every - 1 for i in range(len(table))]]
    return table.reset_index(drop=True)


def _add_second_coder(root: Path) -> None:
    from .project import Project

    study = Project.open(root, coder=_SECOND_CODER)
    files = staff_survey(root.parent / "plan")
    decisions: dict[str, tuple[str, str] | None] = {
        "the staff network gave me people who understand":
            ("the staff network gave me people who understand", "peer support"),
        "I worry about being seen as a troublemaker":
            ("being seen as a troublemaker", "fear of being labelled"),
        "training for managers on responding to racism": None,
    }
    study.code_many(_plan_rows(study, files.coding_plan, respondents=40, decisions=decisions,
                               skip_every=9))
    shutil.rmtree(study._history_dir(), ignore_errors=True)
    shutil.rmtree(root.parent / "plan", ignore_errors=True)
