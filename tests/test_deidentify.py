"""Tests of thematic.deidentify with planted SYNTHETIC identifiers of every kind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thematic.deidentify as deid_mod
from thematic.clean import clean_responses
from thematic.deidentify import (
    ENGINES,
    Deidentifier,
    deidentify,
    deidentify_text,
    drop_identifying_columns,
    nhs_number_is_valid,
    read_term_list,
)
from thematic.errors import InputError
from thematic.ingest import read_export
from thematic.schemas import validate

EXPORTS = Path(__file__).parent / "data" / "exports"
EXAMPLES = Path(__file__).parents[1] / "corpus" / "examples"
NAMES = ["Sam Taylor", "Amir Khan", "Siobh\u00e1n O'Neill", "Sarah White", "Grace"]
ORGS = ["Northshire Community NHS Trust", "Riverside Talking Therapies", "NCT"]


def _nhs(prefix: str) -> str:
    """A valid NHS number starting with nine given digits (computed, not copied)."""
    total = sum(int(d) * w for d, w in zip(prefix, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    if check == 10:
        raise ValueError(prefix)
    return prefix + str(check)


VALID_NHS = _nhs("999123451")

# (planted text, kind it must be masked as)
PLANTED = [
    ("sam.taylor@example.nhs.uk", "EMAIL"),
    ("SAM_T+survey@Example.org", "EMAIL"),
    ("s.taylor[at]example[dot]org", "EMAIL"),
    ("07700 900123", "PHONE"),
    ("07700900123", "PHONE"),
    ("+44 7700 900123", "PHONE"),
    ("+44 (0)20 7946 0958", "PHONE"),
    ("(0191) 498 0000", "PHONE"),
    ("0191-498-0000", "PHONE"),
    ("+1 202-555-0143", "PHONE"),
    ("00353 1 234 5678", "PHONE"),
    (f"{VALID_NHS[:3]} {VALID_NHS[3:6]} {VALID_NHS[6:]}", "NHS_NUMBER"),
    (VALID_NHS, "NHS_NUMBER"),
    (f"{VALID_NHS[:3]}-{VALID_NHS[3:6]}-{VALID_NHS[6:]}", "NHS_NUMBER"),
    ("LS1 4AP", "POSTCODE"),
    ("ne1 4lp", "POSTCODE"),
    ("SW1A1AA", "POSTCODE"),
    ("https://example.org/path?id=42", "URL"),
    ("www.example.com/team", "URL"),
    ("example.nhs.uk/about", "URL"),
    ("@sam_t", "HANDLE"),
    ("14/03/1985", "DATE"),
    ("3-14-1985", "DATE"),
    ("1985-03-14", "DATE"),
    ("14.03.1985", "DATE"),
    ("14th March 1985", "DATE"),
    ("March 14, 1985", "DATE"),
    ("14 Mar '85", "DATE"),
    ("Sam Taylor", "NAME"),
    ("Dr Khan", "NAME"),
    ("Dr. A. Khan", "NAME"),
    ("amir", "NAME"),
    ("Siobhan", "NAME"),  # accent dropped
    ("Siobh\u00e1n O\u2019Neill", "NAME"),  # curly apostrophe
    ("Prof Okonjo", "NAME"),  # not on the list: masked after a title
    ("Northshire Community NHS Trust", "ORGANISATION"),
    ("riverside talking therapies", "ORGANISATION"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("planted", "kind"), PLANTED)
def test_planted_identifier_is_masked(planted, kind, engine):
    text = f"Before that, {planted} was mentioned in the caucus."
    out = deidentify_text(text, NAMES, ORGS, engine=engine)
    assert f"[{kind}]" in out
    assert planted not in out
    # nothing of the planted identifier survives (its letters/digits runs of 3+)
    for token in re.findall(r"[A-Za-z0-9]{3,}", planted):
        if token.lower() not in {
            "www",
            "https",
            "com",
            "org",
            "dot",
            "the",
            "march",
            "mar",
            "prof",
            "nhs",
            "trust",
        }:
            assert token not in out, token


def test_dob_context_masks_partial_dates():
    text = (
        "DOB: March 1985. I was born in 1979 and my birthday is 12 May. Since 2020 we meet monthly."
    )
    out = deidentify_text(text)
    assert (
        out
        == "DOB: [DATE]. I was born in [DATE] and my birthday is [DATE]. Since 2020 we meet monthly."
    )


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this, i.e. that, etc. and so on",
        "version 3.1.2 and v1.2.3 and 10.0.0.1",
        "scores of 3-2-1, in 2016 2017 2018, ratio 1/2",
        "the White Caucus and White people",
        "I will hope for grace, and may we mark it",
        "We met at 10:30 on the 12th March",
        "it was good.In the end",
        "123 456 7890 is not an NHS number",
        "No1 2nd time",
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_ordinary_text_is_left_alone(text, engine):
    assert deidentify_text(text, NAMES, ORGS, engine=engine) == text


@pytest.mark.parametrize("engine", ENGINES)
def test_names_rules(engine):
    out = deidentify_text(
        "Sam's idea; Taylor agreed. Sarah White spoke, Dr White too. Grace said grace.",
        NAMES,
        engine=engine,
    )
    assert out == "[NAME]'s idea; [NAME] agreed. [NAME] spoke, [NAME] too. [NAME] said grace."


def test_nhs_number_check_digit():
    assert nhs_number_is_valid(VALID_NHS)
    assert nhs_number_is_valid("943 476 5919")
    bad = VALID_NHS[:9] + str((int(VALID_NHS[9]) + 1) % 10)
    assert not nhs_number_is_valid(bad)
    assert not nhs_number_is_valid("1111111111")
    assert deidentify_text(f"number {bad} here") == f"number {bad} here"


def test_overlaps_keep_the_longest():
    out = deidentify_text("Write to sam.taylor@example.org or see example.org", NAMES)
    assert out == "Write to [EMAIL] or see [URL]"


# --------------------------------------------------------------------------- random planting

_FILLER = st.sampled_from(
    ["I felt heard", "the caucus helped", "silence is not neutral", "thanks", "it\u2019s hard",
     "we met twice", "in 2021", "e.g. supervision"]
)  # fmt: skip


@st.composite
def _identifier(draw):
    kind = draw(
        st.sampled_from(["EMAIL", "PHONE", "NHS_NUMBER", "POSTCODE", "DATE", "NAME", "URL"])
    )
    if kind == "EMAIL":
        local = draw(st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True))
        return kind, f"{local}@{draw(st.sampled_from(['example.org', 'nhs.net', 'example.co.uk']))}"
    if kind == "PHONE":
        n = draw(st.integers(0, 999))
        return kind, draw(
            st.sampled_from([f"07700 900{n:03d}", f"07700900{n:03d}", f"+44 7700 900{n:03d}"])
        )
    if kind == "NHS_NUMBER":
        while True:
            prefix = "".join(
                str(d) for d in draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))
            )
            try:
                number = _nhs(prefix)
            except ValueError:
                continue
            if nhs_number_is_valid(number):
                break
        return kind, draw(st.sampled_from([number, f"{number[:3]} {number[3:6]} {number[6:]}"]))
    if kind == "POSTCODE":
        area = draw(st.sampled_from(["LS", "NE", "M", "B", "YO", "HU"]))
        return (
            kind,
            f"{area}{draw(st.integers(1, 29))} {draw(st.integers(0, 9))}{draw(st.sampled_from(['AP', 'LP', 'QT', 'BX']))}",
        )
    if kind == "DATE":
        d, m, y = draw(st.integers(1, 28)), draw(st.integers(1, 12)), draw(st.integers(1940, 2010))
        return kind, draw(
            st.sampled_from([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} March {y}"])
        )
    if kind == "NAME":
        return kind, draw(
            st.sampled_from(["Sam Taylor", "Amir Khan", "Dr Taylor", "Dr. S. Taylor", "khan"])
        )
    return kind, f"https://example.org/{draw(st.integers(1, 999))}"


def _one_response(text: str) -> pd.DataFrame:
    """A validated one-row responses table holding ``text``."""
    return validate(
        pd.DataFrame(
            {"response_id": ["r1:q"], "respondent_id": ["r1"], "question": ["q"], "text": [text]}
        ).astype("str"),
        "responses",
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_FILLER.map(lambda f: (None, f)), _identifier()), min_size=1, max_size=8))
def test_no_planted_identifier_survives(parts):
    text = ", ".join(p for _, p in parts) + "."
    df = _one_response(text)
    out, audit = deidentify(df, NAMES[:2], salt="test")
    masked = out["text"].iloc[0]
    for kind, planted in parts:
        if kind is not None:
            assert planted not in masked
    assert len(audit) >= sum(1 for k, _ in parts if k is not None) - sum(
        1 for i in range(1, len(parts)) if parts[i][0] and parts[i - 1][0]
    )  # adjacent identifiers may merge into one span
    for cell in audit.astype(str).to_numpy().ravel():
        for kind, planted in parts:
            if kind is not None:
                assert planted not in cell


# --------------------------------------------------------------------------- table API


def _responses() -> pd.DataFrame:
    df = read_export(EXPORTS / "msforms.xlsx")
    return clean_responses(df).responses


@pytest.mark.parametrize("engine", ENGINES)
def test_deidentify_table_and_audit_without_plaintext(engine):
    cleaned = _responses()
    planted = "sam.t@example.org"
    assert cleaned["text"].str.contains(planted, regex=False).any()
    out, audit = deidentify(cleaned, NAMES, ORGS, salt="secret", engine=engine)
    assert not out["text"].fillna("").str.contains(planted, regex=False).any()
    assert out["text_raw"].equals(
        cleaned["text_raw"]
    )  # raw text untouched (dropped before sharing)
    assert set(audit["kind"]) == {"EMAIL", "NAME"}
    # spans point into the text before masking; the audit holds no plaintext
    before = cleaned.set_index("response_id")["text"]
    for row in audit.itertuples():
        original = before[row.response_id][row.start : row.end]
        assert original in (planted, "Dr Khan")
        assert (
            not audit.astype(str)
            .apply(lambda c, o=original: c.str.contains(o, regex=False))
            .any()
            .any()
        )
    validate(audit, "audit")


def test_digests_depend_on_the_salt_and_identify_repeats():
    df = validate(
        pd.DataFrame(
            {
                "response_id": ["a:q", "b:q"],
                "respondent_id": ["a", "b"],
                "question": ["q", "q"],
                "text": ["Ask Sam Taylor", "sam taylor said so"],
            }
        ).astype("str"),
        "responses",
    )
    _, a1 = deidentify(df, NAMES, salt="one")
    _, a2 = deidentify(df, NAMES, salt="two")
    _, a3 = deidentify(df, NAMES, salt="one")
    assert a1["digest"].iloc[0] == a1["digest"].iloc[1]  # same person, any case
    assert a1["digest"].tolist() == a3["digest"].tolist()
    assert a1["digest"].iloc[0] != a2["digest"].iloc[0]
    _, r1 = deidentify(df, NAMES)
    _, r2 = deidentify(df, NAMES)
    assert r1["digest"].iloc[0] != r2["digest"].iloc[0]  # default: a random salt per call


@pytest.mark.parametrize("engine", ENGINES)
def test_pseudonyms_are_consistent_and_deterministic(engine):
    texts = [
        "Sam Taylor and Amir Khan ran it.",
        "Khan's point stayed with me; so did Sam's.",
        "I spoke to Dr. A. Khan and Riverside Talking Therapies.",
    ]
    df = validate(
        pd.DataFrame(
            {
                "response_id": [f"r{i}:q" for i in range(3)],
                "respondent_id": [f"r{i}" for i in range(3)],
                "question": "q",
                "text": texts,
            }
        ).astype("str"),
        "responses",
    )
    out1, _ = deidentify(df, NAMES, ORGS, pseudonyms=True, engine=engine)
    out2, _ = deidentify(df, NAMES, ORGS, pseudonyms=True, engine=engine)
    assert out1["text"].tolist() == out2["text"].tolist()
    assert out1["text"].tolist() == [
        "[NAME_1] and [NAME_2] ran it.",
        "[NAME_2]'s point stayed with me; so did [NAME_1]'s.",
        "I spoke to [NAME_2] and [ORGANISATION_1].",
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_deidentify_is_idempotent(engine):
    cleaned = _responses()
    once, _ = deidentify(cleaned, NAMES, ORGS, pseudonyms=True, engine=engine)
    twice, audit = deidentify(once, NAMES, ORGS, pseudonyms=True, engine=engine)
    assert once["text"].equals(twice["text"]) and len(audit) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_question_text_is_deidentified_once_per_value(engine):
    df = validate(
        pd.DataFrame(
            {
                "response_id": ["a:q", "b:q"],
                "respondent_id": ["a", "b"],
                "question": ["How was Dr Khan's session?"] * 2,
                "text": ["Good", "Fine"],
            }
        ).astype("str"),
        "responses",
    )
    out, audit = deidentify(df, NAMES, engine=engine)
    assert out["question"].tolist() == ["How was [NAME]'s session?"] * 2
    assert (
        len(audit) == 1
        and pd.isna(audit["response_id"].iloc[0])
        and audit["column"].iloc[0] == "question"
    )


def test_text_raw_cannot_be_deidentified_in_place():
    with pytest.raises(InputError, match="text_raw"):
        deidentify(_responses(), columns=["text_raw"])


def test_drop_identifying_columns():
    out, audit = drop_identifying_columns(_responses())
    for col in ["text_raw", "Email", "Name", "Start time", "Completion time", "Last modified time"]:
        assert col not in out.columns
    assert "How would you rate today's session?" in out.columns  # closed question kept
    assert set(audit["detail"]) == {
        "text_raw",
        "Email",
        "Name",
        "Start time",
        "Completion time",
        "Last modified time",
    }
    assert (audit["action"] == "drop_column").all()


def test_drop_identifying_columns_drops_unreviewed_free_text():
    df = read_export(
        EXPORTS / "msforms.xlsx",
        text_columns=["What has been your experience of the anti-racism community of practice?"],
    )
    out, audit = drop_identifying_columns(df)
    learning = "What have been some of your learning/reflections so far?"
    assert learning not in out.columns
    assert (
        audit.set_index("detail").loc[learning, "reason"] == "free text that was not de-identified"
    )


def test_read_term_list(tmp_path):
    p = tmp_path / "names.txt"
    p.write_bytes(
        "\ufeff# team list\nSam Taylor\n\n  Amir Khan   # facilitator\nsam taylor\nO'Neill#x\n".encode()
    )
    assert read_term_list(p) == ["Sam Taylor", "Amir Khan", "O'Neill#x"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Sam\nZo\xeb\n")
    with pytest.raises(InputError) as exc:
        read_term_list(bad)
    assert exc.value.row == 2
    with pytest.raises(InputError, match="not found"):
        read_term_list(tmp_path / "missing.txt")


def test_optional_ner(monkeypatch):
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": "Zanele"}, {"label": "ORG", "pattern": "Acme Clinic"}]
    )
    monkeypatch.setattr(deid_mod, "_load_ner", lambda ner: nlp)
    df = validate(
        pd.DataFrame(
            {
                "response_id": ["a:q"],
                "respondent_id": ["a"],
                "question": ["q"],
                "text": ["Zanele at Acme Clinic."],
            }
        ).astype("str"),
        "responses",
    )
    out, _ = deidentify(df, ner=True)
    assert out["text"].iloc[0] == "[NAME] at [ORGANISATION]."
    without, _ = deidentify(df)
    assert without["text"].iloc[0] == "Zanele at Acme Clinic."


def test_ner_without_trained_pipeline(monkeypatch):
    import spacy

    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    with pytest.raises(InputError, match="trained spaCy pipeline"):
        Deidentifier(ner=True)


_SOUP = st.lists(
    st.sampled_from(
        ["Dr", "Dr.", " ", "Sam", "Taylor", "Khan", "'s", "\u2019s", "@", "sam", ".", "example", "org", "uk",
         "www", "://", "0", "7", "44", "+", "(", ")", "-", "/", "1985", "03", "14", "March", "LS1", "4AP", "A.",
         "[NAME]", "[", "]", "born", "DOB:", "\n", "Prof", "O'Neill", "White", "Grace", "e.g.", "nhs", "at", "dot"]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(_SOUP, st.text(max_size=40)))
def test_masking_is_idempotent_and_never_fails(text):
    once = deidentify_text(text, NAMES, ORGS)
    assert deidentify_text(once, NAMES, ORGS) == once


# --------------------------------------------------------------------------- engines


def _hits(det: Deidentifier, text: str) -> list[tuple[int, int, str, str]]:
    return [(h.start, h.end, h.kind, h.key) for h in det.find(text)]


@pytest.fixture(scope="module")
def engines() -> tuple[Deidentifier, Deidentifier]:
    return Deidentifier(NAMES, ORGS), Deidentifier(NAMES, ORGS, engine="spacy")


# Boundaries the spaCy engine's tokenizer is extended for, and names in context
_EDGES = [
    "Thanks -Sam",
    "call 07700900123Sam back",
    "Sam2 and Khan-led work",
    "Siobh\u00e1n O\u2011Neill and Sam\u2010Taylor",
    "A.Khan, A.K.Khan and Dr A.K. Khan",
    "Sam  Taylor\nand\tAmir\u00a0Khan said",
    "Dr. Okafor-Mensah's point; Mrs Patel too; Cllr. Ama Owusu",
    "(Dr White) and the White Caucus; GRACE and grace; Grace's",
    "Sarah White-Taylor, sarah white, SIOBHAN O'NEILL",
    "Riverside Talking Therapies\u2019 staff and NCT, nct",
]


@pytest.mark.parametrize(
    "text",
    [f"Before that, {p} was mentioned in the caucus." for p, _ in PLANTED]
    + [
        "Sam's idea; Taylor agreed. Sarah White spoke, Dr White too. Grace said grace.",
        "Khan's point stayed with me; so did Sam's.",
        "I spoke to Dr. A. Khan and Riverside Talking Therapies.",
        *_EDGES,
    ],
)
def test_engines_agree_on_planted_identifiers(engines, text):
    regex, spacy_engine = engines
    expected = _hits(regex, text)
    assert expected  # every case plants something
    assert _hits(spacy_engine, text) == expected
    assert spacy_engine.mask(text)[0] == regex.mask(text)[0]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_FILLER.map(lambda f: (None, f)), _identifier()), min_size=1, max_size=8))
def test_engines_agree_on_random_planting(parts):
    text = ", ".join(p for _, p in parts) + "."
    df = _one_response(text)
    a = deidentify(df, NAMES[:2], ORGS, salt="test", pseudonyms=True)
    b = deidentify(df, NAMES[:2], ORGS, salt="test", pseudonyms=True, engine="spacy")
    assert b.responses["text"].iloc[0] == a.responses["text"].iloc[0]
    pd.testing.assert_frame_equal(b.audit, a.audit)


@pytest.mark.parametrize(
    ("export", "names", "orgs"),
    [
        (EXPORTS / "msforms.xlsx", NAMES, ORGS),
        (
            EXAMPLES / "synthetic-msforms-export.xlsx",
            read_term_list(EXAMPLES / "synthetic-names.txt"),
            read_term_list(EXAMPLES / "synthetic-organisations.txt"),
        ),
    ],
    ids=["msforms", "corpus-example"],
)
def test_engines_agree_on_export_fixtures(export, names, orgs):
    cleaned = clean_responses(read_export(export)).responses
    a = deidentify(cleaned, names, orgs, salt="s", pseudonyms=True)
    b = deidentify(cleaned, names, orgs, salt="s", pseudonyms=True, engine="spacy")
    assert {"NAME"} <= set(b.audit["kind"])  # the fixtures plant names
    pd.testing.assert_frame_equal(b.responses, a.responses)
    pd.testing.assert_frame_equal(b.audit, a.audit)
    masked = " ".join(b.responses["text"].dropna())
    for term in [*names, *orgs]:
        assert term.lower() not in masked.lower()


@pytest.mark.parametrize(
    ("text", "names", "orgs", "regex_out", "spacy_out", "documented"),
    [
        # punctuation spaCy keeps inside a token: only the regex engine masks
        ("see sam.taylor today", NAMES, [], "see [NAME].[NAME] today", "see sam.taylor today",
         "sam.taylor"),
        ("Ms.nct", [], ORGS, "Ms.[ORGANISATION]", "Ms.nct", "Ms.nct"),
        ("Sam'sWhite", NAMES, [], "[NAME]'sWhite", "Sam'sWhite", "Sam'sWhite"),
        ("Neill and O'Neill", ["Neill"], [], "[NAME] and O'[NAME]", "[NAME] and O'Neill",
         "O'Neill"),
        # initials counted by token (spaCy) or by letter (regex)
        ("A.K. B. C. Khan", NAMES, [], "A.K. [NAME]", "[NAME]", "A.K. B. C. Khan"),
    ],
)  # fmt: skip
def test_documented_engine_differences(text, names, orgs, regex_out, spacy_out, documented):
    """The engines differ only as the module docstring says (each case is quoted there)."""
    assert f"``{documented}``" in (deid_mod.__doc__ or "")
    assert deidentify_text(text, names, orgs) == regex_out
    assert deidentify_text(text, names, orgs, engine="spacy") == spacy_out


def test_unknown_engine_is_rejected():
    for call in (
        lambda: Deidentifier(NAMES, engine="spaCy"),
        lambda: deidentify_text("Sam", NAMES, engine="ner"),
        lambda: deidentify(_responses(), NAMES, engine=""),
    ):
        with pytest.raises(InputError, match="'regex', 'spacy'") as exc:
            call()
        assert isinstance(exc.value, ValueError) and "engine" in str(exc.value)


def test_spacy_is_imported_only_by_the_spacy_engine():
    code = (
        "import sys\n"
        "import thematic, thematic.deidentify as d\n"
        "from thematic.cli import clean\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.split('.')[0] == 'spacy')\n"
        "assert not loaded(), loaded()\n"
        "assert d.deidentify_text('Dr Khan', ['Amir Khan']) == '[NAME]'\n"
        "assert not loaded(), loaded()\n"
        "assert d.deidentify_text('Dr Khan', ['Amir Khan'], engine='spacy') == '[NAME]'\n"
        "assert 'spacy' in loaded() and 'spacy.matcher' in loaded()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("engine", ["regex", "spacy"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a title is never the second word of a name: both unlisted surnames are masked
        ("Dr Khan Dr Okafor agreed", "[NAME] [NAME] agreed"),
        ("Mrs Patel, Dr Khan Dr. Okafor", "[NAME], [NAME] [NAME]"),
        # a run of spaces between the words of a titled name does not leave a word visible
        ("Dr Ama  Owusu spoke", "[NAME] spoke"),
        ("Prof. A.  Smith-Jones  said", "[NAME]  said"),
    ],
)
def test_titled_names_leave_no_word_visible(engine, text, expected):
    assert deidentify_text(text, engine=engine) == expected
