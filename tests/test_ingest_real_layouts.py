"""Real-world export layouts, column typing and reader limits (thematic.ingest).

Every export here is SYNTHETIC and built inside the test from the *layout* of a tool's
real export (header rows, metadata columns, encodings, date formats): invented
respondents, invented answers, reserved example domains and test-range IP addresses.
No byte of a real export is copied. Expected values come from the data written by the
test, never from the reader's output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from _read_info import read_info
from thematic import ingest
from thematic.cli import main
from thematic.errors import InputError
from thematic.ingest import looks_like_free_text, read_export

RM = "Racially minoritised caucus"
WC = "White caucus"
CAUCUSES = [RM, WC, RM, WC, RM, WC, RM, WC]
SENTENCES = [
    "Being with people who share the experience made it easier to speak plainly.",
    "I noticed how quickly I wanted to move on from the discomfort in the room.",
    "Hearing colleagues name everyday racism at work was hard but necessary.",
    "I am still unsure what accountability looks like in my own team meetings.",
    "The facilitators held the silence well and nobody was rushed to answer.",
    "I would like more time in the joint session to hear the other caucus.",
    "It felt like the first time my experience was taken seriously by managers.",
    "I realised I rely on others to raise issues that I could raise myself.",
]
RATINGS_1_9 = ["7", "3", "9", "5", "1", "8", "6", "2"]
LIKERT = ["Strongly agree", "Agree", "Neither agree nor disagree", "Disagree"] * 2
LONG_OPTIONS = [
    "I mostly listened and reflected on what others shared today",
    "I spoke about my own experience and felt heard by the group",
] * 4
TOPICS = [
    "Whiteness;Accountability;",
    "Othering;",
    "Whiteness;Othering;Allyship;",
    "Accountability;",
    "Allyship;Whiteness;",
    "Othering;Accountability;",
    "Whiteness;",
    "Allyship;Othering;",
]


def _write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delim: str = ","):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _column_audit(audit: pd.DataFrame) -> dict[str, tuple[str, str]]:
    a = audit.loc[audit["action"].isin(["take_column", "leave_column"])]
    assert a["detail"].is_unique  # one row per column
    return {d: (act, r) for d, act, r in zip(a["detail"], a["action"], a["reason"], strict=True)}


def _per_respondent(df: pd.DataFrame, col: str) -> list:
    return [None if pd.isna(v) else v for v in df.drop_duplicates("respondent_id")[col]]


# --------------------------------------------------------------------------- Qualtrics


LEGACY_META = ["ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress",
               "IPAddress", "Status", "StartDate", "EndDate", "Finished"]  # fmt: skip
Q_CAUCUS = "Which caucus did you join today?"
Q_TAKEAWAY = "What will you take away from today's session?"
Q_RATE_GROUP = "How much did the group help you today? (1 = not at all, 9 = a great deal)"


def _legacy_qualtrics(path: Path) -> Path:
    """The legacy exporter: V1..V10 over the metadata, question texts in the second row."""
    top = [f"V{i}" for i in range(1, 11)] + ["Q1", "Q2", "Q3", "LocationLatitude",
                                             "LocationLongitude", "LocationAccuracy", ""]  # fmt: skip
    second = [*LEGACY_META, Q_CAUCUS, Q_TAKEAWAY, Q_RATE_GROUP, "LocationLatitude",
              "LocationLongitude", "LocationAccuracy", ""]  # fmt: skip
    rows = [top, second]
    for i in range(8):
        rows.append(
            [f"R_legacy{i:04d}Xy", "Default Response Set", "Anonymous", "",
             "sam.t@example.org" if i == 0 else "", f"192.0.2.{10 + i}",
             "1" if i == 7 else "0", f"2023-05-0{1 + i // 4} 10:0{i}:00",
             f"2023-05-0{1 + i // 4} 10:1{i}:00", "0" if i == 6 else "1",
             CAUCUSES[i], SENTENCES[i], RATINGS_1_9[i], "54.97", "-1.61", "-1", ""]
        )  # fmt: skip
    return _write_csv(path, rows, encoding="utf-8-sig")


def test_legacy_qualtrics_v1_v10_layout(tmp_path):
    df, audit = read_export(_legacy_qualtrics(tmp_path / "legacy.csv"))
    info = read_info(audit)
    assert info["format"] == "qualtrics" and info["header_rows"] == 2
    assert info["text_columns"] == ["Q2"]
    assert set(df["question"]) == {Q_TAKEAWAY}
    assert _per_respondent(df, "group") == CAUCUSES  # Q1, not the 1-9 rating named "group"
    assert _per_respondent(df, "respondent_id") == [f"R_legacy{i:04d}Xy" for i in range(8)]
    assert df.loc[df["flag_preview"], "respondent_id"].tolist() == ["R_legacy0007Xy"]
    assert df.loc[df["flag_unfinished"], "respondent_id"].tolist() == ["R_legacy0006Xy"]
    assert set(df["session"]) == {"2023-05-01", "2023-05-02"}
    assert {"Name", "EmailAddress", "IPAddress", "ExternalDataReference", "StartDate",
            "LocationLatitude", "LocationLongitude"} <= set(info["identifying_columns"])  # fmt: skip
    cols = _column_audit(audit)
    assert len(cols) == 16  # every column, the trailing blank one dropped
    assert cols["Q1"][0] == "take_column" and cols["Q1"][1].startswith("group")
    assert cols["Q2"][0] == "take_column" and cols["Q2"][1].startswith("open text")
    assert cols["Q3"][0] == "leave_column" and cols["Q3"][1].startswith("rating scale")
    assert "never the group" in cols["Q3"][1]
    assert cols["ResponseID"][1].startswith("id")
    assert cols["EmailAddress"][1].startswith("identifying")


def test_legacy_qualtrics_single_short_answer(tmp_path):
    """The smallest legacy export: one respondent, a coded choice and a short answer."""
    top = [f"V{i}" for i in range(1, 11)] + ["Q1", "Q2", ""]
    second = [*LEGACY_META, "This is a choice question.", "This is a free text question.", ""]
    data = ["R_1synthAbCdEf", "Default Response Set", "Anonymous", "", "", "203.0.113.9", "0",
            "2023-01-05 09:00:00", "2023-01-05 09:01:00", "1", "2", "Thanks, all good.", ""]  # fmt: skip
    df, audit = read_export(_write_csv(tmp_path / "one.csv", [top, second, data]))
    assert read_info(audit)["text_columns"] == ["Q2"]
    assert df["text_raw"].tolist() == ["Thanks, all good."]
    cols = _column_audit(audit)
    assert cols["Q1"][1].startswith("rating scale")  # a coded choice: a number, not text
    assert "no column holds sentence-length answers" in cols["Q2"][1]


def _qualtrics_3row(path: Path, caucus: list[str], n: int) -> Path:
    names = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId",
             "Q1", "Q2", "Q3", "Q4", "image"]  # fmt: skip
    questions = ["Start Date", "End Date", "Response Type", "Progress", "Finished",
                 "Recorded Date", "Response ID", Q_CAUCUS, Q_TAKEAWAY, Q_RATE_GROUP,
                 "Which topics were useful? - Selected Choice", "image"]  # fmt: skip
    ids = ["startDate", "endDate", "status", "progress", "finished", "recordedDate", "_recordId",
           "QID1", "QID2_TEXT", "QID3", "QID4", "image"]  # fmt: skip
    rows = [names, questions, [f'{{"ImportId":"{i}"}}' for i in ids]]
    for i in range(n):
        rows.append(
            ["2023-06-01 10:00:00", "2023-06-01 10:10:00", "IP Address", "100", "True",
             "2023-06-01 10:10:01", f"R_3row{i:04d}AbCd", caucus[i], SENTENCES[i],
             RATINGS_1_9[i], TOPICS[i].rstrip(";").replace(";", ","),
             f'<img src="https://example.org/img/{i % 2}.png" height="199">']
        )  # fmt: skip
    return _write_csv(path, rows)


@pytest.mark.parametrize(
    "caucus",
    [
        CAUCUSES,
        # three respondents, long labels, every one distinct: only the layout can tell
        [
            "I joined the racially minoritised caucus (people of colour)",
            "I joined the white caucus for colleagues who are white",
            "I facilitated today and joined neither of the caucus groups",
        ],
    ],
)
def test_qualtrics_caucus_choice_is_the_group_not_open_text(tmp_path, caucus):
    n = len(caucus)
    df, audit = read_export(_qualtrics_3row(tmp_path / "q3.csv", caucus, n))
    info = read_info(audit)
    assert info["text_columns"] == ["Q2"]
    assert _per_respondent(df, "group") == caucus
    cols = _column_audit(audit)
    assert cols["Q1"][1].startswith("group")
    assert cols["Q3"][1].startswith("rating scale") and cols["Q3"][0] == "leave_column"
    assert cols["Q4"][1].startswith("choice")
    assert cols["image"][0] == "leave_column" and cols["image"][1].startswith("HTML")
    assert "embedded data" in cols["image"][1]


# --------------------------------------------------------------------------- Google Forms

GOOGLE = {
    # language: (timestamp header, e-mail header, score header, date format, questions)
    "en": ("Timestamp", "Email address", "Score", "%m/%d/%Y %H:%M:%S",
           ("Which caucus did you join?", "What did you learn today?", "Which topics helped?",
            "How would you rate the session?")),
    "es": ("Marca temporal", "Dirección de correo electrónico", "Puntuación", "%d/%m/%Y %H:%M:%S",
           ("¿A qué caucus te uniste?", "¿Qué aprendiste hoy?", "¿Qué temas te ayudaron?",
            "¿Cómo valoras la sesión?")),
    "fr": ("Horodateur", "Adresse e-mail", "Score", "%d/%m/%Y %H:%M:%S",
           ("Quel caucus avez-vous rejoint ?", "Qu'avez-vous appris aujourd'hui ?",
            "Quels thèmes vous ont aidé ?", "Comment évaluez-vous la séance ?")),
    "de": ("Zeitstempel", "E-Mail-Adresse", "Punktzahl", "%d.%m.%Y %H:%M:%S",
           ("Welchem Caucus sind Sie beigetreten?", "Was haben Sie heute gelernt?",
            "Welche Themen haben geholfen?", "Wie bewerten Sie die Sitzung?")),
    "cy": ("Stamp amser", "Cyfeiriad e-bost", "Sgôr", "%d/%m/%Y %H:%M:%S",
           ("Pa caucus wnaethoch chi ymuno ag ef?", "Beth ddysgoch chi heddiw?",
            "Pa bynciau a helpodd?", "Sut byddech chi'n graddio'r sesiwn?")),
}  # fmt: skip


@pytest.mark.parametrize("lang", sorted(GOOGLE))
def test_google_forms_in_other_languages(tmp_path, lang):
    ts_h, mail_h, score_h, fmt, (q_group, q_open, q_multi, q_rate) = GOOGLE[lang]
    rows = [[ts_h, mail_h, score_h, q_group, q_open, q_multi, q_rate]]
    stamps = [dt.datetime(2023, 3, 14 + i // 4, 10, i, 41) for i in range(8)]
    for i in range(8):
        rows.append(
            [stamps[i].strftime(fmt), f"person{i}@example.org", "", CAUCUSES[i], SENTENCES[i],
             TOPICS[i].rstrip(";").replace(";", ", "), LIKERT[i]]
        )  # fmt: skip
    df, audit = read_export(_write_csv(tmp_path / f"google-{lang}.csv", rows))
    info = read_info(audit)
    assert info["format"] == "googleforms"
    assert info["text_columns"] == [q_open]
    assert df["text_raw"].tolist() == SENTENCES
    assert df["group"].tolist() == CAUCUSES
    assert df["respondent_id"].tolist() == [f"row-{i + 2}" for i in range(8)]
    assert df["session"].tolist() == [s.date().isoformat() for s in stamps]
    assert {ts_h, mail_h} <= set(info["identifying_columns"])
    cols = _column_audit(audit)
    assert cols[q_multi][1].startswith("choice")
    assert cols[q_rate][1].startswith("rating scale")
    assert cols[score_h][1].startswith("metadata")


# --------------------------------------------------------------------------- Microsoft Forms

MSFORMS = {
    "en": ["ID", "Start time", "Completion time", "Email", "Name"],
    "de": ["ID", "Startzeit", "Fertigstellungszeit", "E-Mail", "Name"],
    "fr": ["ID", "Heure de début", "Heure de fin", "Adresse de messagerie", "Nom"],
    "es": ["Id.", "Hora de inicio", "Hora de finalización", "Correo electrónico", "Nombre"],
    "nl": ["Id", "Begintijd", "Tijdstip van voltooien", "E-mail", "Naam"],
}


@pytest.mark.parametrize("lang", sorted(MSFORMS))
def test_microsoft_forms_headers_in_other_languages(tmp_path, lang):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*MSFORMS[lang], Q_CAUCUS, Q_TAKEAWAY, Q_RATE_GROUP])
    for i in range(8):
        end = dt.datetime(2023, 3, 14 + i // 4, 10, 20 + i)
        ws.append([i + 1, end - dt.timedelta(minutes=5), end, "anonymous", None, CAUCUSES[i],
                   SENTENCES[i], int(RATINGS_1_9[i])])  # fmt: skip
    wb.save(tmp_path / f"msforms-{lang}.xlsx")
    df, audit = read_export(tmp_path / f"msforms-{lang}.xlsx")
    info = read_info(audit)
    assert info["format"] == "msforms"
    assert info["text_columns"] == [Q_TAKEAWAY]
    assert df["respondent_id"].tolist() == [str(i + 1) for i in range(8)]
    assert df["group"].tolist() == CAUCUSES
    assert df["session"].tolist() == ["2023-03-14"] * 4 + ["2023-03-15"] * 4
    assert set(MSFORMS[lang][1:]) <= set(info["identifying_columns"])


ROLES = ["Staff nurse", "staff nurse", "Psychologist", "psychologist ", "Café manager",
         "Porter", "Clinical psychologist", "Nurse", "Occupational therapist", "Physio"]  # fmt: skip


def test_microsoft_forms_resaved_as_windows_1252_csv(tmp_path):
    rows = [["Id", "Start time", "Completion time", "Email", "Name", "Last modified time",
             "Is the caucus space useful to you?", "What’s your role?"]]  # fmt: skip
    for i, role in enumerate(ROLES):
        rows.append([str(i + 1), f"3/14/2023 10:{i:02d}", f"3/14/2023 10:{i + 5:02d}",
                     "anonymous", "", "", "Yes" if i % 3 else "No", role])  # fmt: skip
    path = _write_csv(tmp_path / "msforms-resaved.csv", rows, encoding="cp1252")
    assert b"\x92" in path.read_bytes() and b"\xe9" in path.read_bytes()  # cp1252 bytes
    df, audit = read_export(path)
    info = read_info(audit)
    assert info["format"] == "msforms" and info["encoding"] == "cp1252"
    # typed short answers are the only open text: taken; the Yes/No question is not
    assert info["text_columns"] == ["What’s your role?"]
    assert df["text_raw"].tolist() == ROLES
    assert df["respondent_id"].tolist() == [str(i + 1) for i in range(len(ROLES))]
    assert {"Email", "Name", "Start time", "Completion time"} <= set(info["identifying_columns"])
    cols = _column_audit(audit)
    assert cols["Is the caucus space useful to you?"][1].startswith("choice")


# --------------------------------------------------------------------------- encodings

UNICODE_ANSWERS = [
    "Sister Marek Zieliński said it “landed” differently – and I agree.",
    "Café talk afterwards helped; naïve questions were welcome.",
    "Было полезно услышать коллег из другой группы сегодня.",
    "我们在小组里讨论了很多关于工作中的种族主义问题。",
]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("delim", ["\t", ","])
@pytest.mark.parametrize("answers", [SENTENCES, UNICODE_ANSWERS], ids=["ascii", "unicode"])
def test_utf16_without_bom(tmp_path, encoding, delim, answers):
    # ASCII text in UTF-16 is valid UTF-8 too: it was read as UTF-8 and refused as binary
    rows = [["pid", "comment"], *[[f"P{i}", t] for i, t in enumerate(answers)]]
    path = _write_csv(tmp_path / "u16.txt", rows, encoding=encoding, delim=delim)
    assert not path.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    df, audit = read_export(path)
    assert read_info(audit)["encoding"] == encoding
    assert read_info(audit)["delimiter"] == delim
    assert df["text_raw"].tolist() == answers


def test_utf16_mostly_non_latin_without_bom(tmp_path):
    rows = [["pid", "comment"], *[[f"P{i}", UNICODE_ANSWERS[3] * 3] for i in range(3)]]
    df, audit = read_export(_write_csv(tmp_path / "cjk.csv", rows, encoding="utf-16-le"))
    assert df["text_raw"].tolist() == [UNICODE_ANSWERS[3] * 3] * 3


def test_truncated_utf16_and_binary_are_refused(tmp_path):
    rows = [["pid", "comment"], ["P1", SENTENCES[0]]]
    good = _write_csv(tmp_path / "a.csv", rows, encoding="utf-16-le").read_bytes()
    (tmp_path / "odd.csv").write_bytes(good[:-1])
    with pytest.raises(InputError, match="odd number of bytes") as exc:
        read_export(tmp_path / "odd.csv")
    assert exc.value.path.endswith("odd.csv")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match="binary"):
        read_export(tmp_path / "bin.csv")


# --------------------------------------------------------------------------- column typing

PLAIN_EXPECTED = {
    "pid": ("take_column", "id"),
    "caucus": ("take_column", "group"),
    "Rate today's group session (1-9)": ("leave_column", "rating scale"),
    "Photo": ("leave_column", "HTML"),
    "The space felt safe": ("leave_column", "rating scale"),
    "Which statement fits you best?": ("leave_column", "choice"),
    "Topics (tick all that apply)": ("leave_column", "choice"),
    "Age": ("leave_column", "numeric"),
    "Date attended": ("leave_column", "date"),
    "Upload": ("leave_column", "links or files"),
    "Nothing here": ("leave_column", "empty"),
    "Anything else?": ("leave_column", "non-answers"),
    "Email": ("leave_column", "identifying"),
    "comment": ("take_column", "open text"),
}


def _plain_typed(path: Path, *, rating_only: bool = False) -> Path:
    cols = list(PLAIN_EXPECTED)
    if rating_only:
        cols.remove("caucus")
    rows = [cols]
    for i in range(8):
        v = {
            "pid": f"P{i + 1:02d}",
            "caucus": CAUCUSES[i],
            "Rate today's group session (1-9)": RATINGS_1_9[i],
            "Photo": f'<img src="https://example.org/p/{i}.png" alt="">',
            "The space felt safe": LIKERT[i],
            "Which statement fits you best?": LONG_OPTIONS[i],
            "Topics (tick all that apply)": TOPICS[i],
            "Age": str(23 + 5 * i),
            "Date attended": f"2023-03-{14 + i % 2}",
            "Upload": f"reflection-{i}.docx",
            "Nothing here": "",
            "Anything else?": ["n/a", "None", "-", "no comment"][i % 4],
            "Email": f"person{i}@example.org",
            "comment": SENTENCES[i],
        }
        rows.append([v[c] for c in cols])
    return _write_csv(path, rows)


def test_every_column_is_typed_and_audited(tmp_path):
    df, audit = read_export(_plain_typed(tmp_path / "typed.csv"))
    info = read_info(audit)
    assert info["text_columns"] == ["comment"]
    assert df["group"].tolist() == CAUCUSES
    cols = _column_audit(audit)
    assert set(cols) == set(PLAIN_EXPECTED)
    for col, (action, label) in PLAIN_EXPECTED.items():
        got_action, reason = cols[col]
        assert (got_action, reason.split(":")[0]) == (action, label), (col, reason)
    assert "Email" in info["identifying_columns"]


def test_group_is_never_a_rating_item(tmp_path):
    df, audit = read_export(_plain_typed(tmp_path / "typed.csv", rating_only=True))
    assert df["group"].isna().all()
    reason = _column_audit(audit)["Rate today's group session (1-9)"][1]
    assert reason.startswith("rating scale") and "never the group" in reason


def test_explicit_choices_win_over_the_heuristics(tmp_path):
    path = _plain_typed(tmp_path / "typed.csv")
    df, audit = read_export(
        path,
        text_columns=["Which statement fits you best?"],
        group_column="Rate today's group session (1-9)",
    )
    assert read_info(audit)["text_columns"] == ["Which statement fits you best?"]
    assert df["text_raw"].tolist() == LONG_OPTIONS
    assert df["group"].tolist() == RATINGS_1_9
    cols = _column_audit(audit)
    assert cols["Which statement fits you best?"][1] == "open text: named by the caller"
    assert cols["comment"][0] == "leave_column"


def test_looks_like_free_text_rejects_choices_ratings_and_markup():
    assert looks_like_free_text(SENTENCES)
    assert not looks_like_free_text(LONG_OPTIONS)
    assert not looks_like_free_text(LONG_OPTIONS[:3])  # repeated verbatim, even in 3 rows
    assert not looks_like_free_text(LIKERT)
    assert not looks_like_free_text(["4 - Very useful", "5 - Extremely useful", "3 - Useful"])
    assert not looks_like_free_text([f'<img src="https://example.org/{i}.png">' for i in range(5)])
    assert not looks_like_free_text(TOPICS)
    assert not looks_like_free_text(RATINGS_1_9)


def test_identifying_column_names_in_other_languages_and_tools():
    cols = ["Dirección de correo electrónico", "PROLIFIC_PID", "Contact information - Phone",
            "Marca temporal", "Horodateur", "Staff number", "Nombre", "Adresse e-mail",
            "Cyfeiriad e-bost", "Repost count", "From Turkey?", "Number of sessions"]  # fmt: skip
    assert ingest.identifying_column_names(cols) == cols[:9]


# --------------------------------------------------------------------------- limits


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def _rezip(src: Path, dst: Path, edit, extra: dict[str, bytes] | None = None, stored=False):
    """Copy a workbook, passing each member's bytes through ``edit(name, data)``."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info.filename)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


SMALL = [["pid", "comment"], *[[f"P{i}", s] for i, s in enumerate(SENTENCES[:3])]]


def test_xlsx_zip_bomb_is_refused_before_it_is_expanded(tmp_path, monkeypatch):
    good = _workbook(tmp_path / "good.xlsx", SMALL)
    bomb = _rezip(good, tmp_path / "bomb.xlsx", lambda n, d: d, {"xl/media/x.bin": bytes(30 << 20)})
    assert bomb.stat().st_size < 200_000

    def no_openpyxl(*a, **k):  # the workbook must not even be opened
        raise AssertionError("openpyxl opened a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    with pytest.raises(InputError, match="zip bomb") as exc:
        read_export(bomb)
    assert exc.value.path.endswith("bomb.xlsx")
    # the total uncompressed size is limited too
    monkeypatch.setattr(ingest, "MAX_XLSX_UNCOMPRESSED_BYTES", 2_000)
    with pytest.raises(InputError, match="MAX_XLSX_UNCOMPRESSED_BYTES"):
        read_export(good)


def test_xlsx_member_larger_than_declared_fails_its_crc(tmp_path):
    good = _workbook(tmp_path / "good.xlsx", SMALL)
    stored = _rezip(good, tmp_path / "stored.xlsx", lambda n, d: d, stored=True)
    data = bytearray(stored.read_bytes())
    # change one stored byte of the worksheet: the CRC no longer matches
    i = data.index(b"<sheetData>") + len(b"<sheetData>") + 5
    data[i] = (data[i] + 1) % 128 or 65
    (tmp_path / "crc.xlsx").write_bytes(bytes(data))
    with pytest.raises(InputError, match="XLSX") as exc:
        read_export(tmp_path / "crc.xlsx")
    assert exc.value.path.endswith("crc.xlsx")
    # a member declaring fewer bytes than it holds is cut there, then fails its CRC
    data = bytearray(stored.read_bytes())
    patched = 0
    for m in re.finditer(b"PK\x01\x02", bytes(data)):  # central directory entries
        name_len = struct.unpack_from("<H", data, m.start() + 28)[0]
        name = data[m.start() + 46 : m.start() + 46 + name_len]
        if name == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, m.start() + 24, 10)  # declared uncompressed size
            patched += 1
    assert patched == 1
    (tmp_path / "short.xlsx").write_bytes(bytes(data))
    with pytest.raises(InputError, match="XLSX"):
        read_export(tmp_path / "short.xlsx")


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        ({"Index/Document.iwa": b"x", "Metadata/Properties.plist": b"x"}, "Numbers"),
        ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<a/>"},
         "OpenDocument"),
    ],
)  # fmt: skip
def test_other_zip_formats_are_named(tmp_path, members, needle):
    p = tmp_path / "survey.csv"  # misnamed, as they come
    with zipfile.ZipFile(p, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(InputError, match=needle):
        read_export(p)


def test_not_a_zip_xlsx(tmp_path):
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"PK\x03\x04" + bytes(range(200)) * 5)
    with pytest.raises(InputError, match="XLSX") as exc:
        read_export(p)
    assert "\n" not in str(exc.value)


def test_xlsx_declared_dimension_is_not_materialised(tmp_path):
    rows = [["pid", "comment"], *[[f"P{i}", f"{SENTENCES[i % 8]} ({i})"] for i in range(3_000)]]
    good = _workbook(tmp_path / "good.xlsx", rows)

    def huge(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
        return data

    wide = _rezip(good, tmp_path / "declared.xlsx", huge)
    t0 = time.perf_counter()
    df, audit = read_export(wide)
    # reading rows padded to the declared 16,384 columns took 28 s and 500 MB
    assert time.perf_counter() - t0 < 10
    assert df["text_raw"].tolist() == [r[1] for r in rows[1:]]
    assert [c for c in df.columns if c.startswith("column ")] == []


def test_xlsx_far_cells_hit_the_row_and_column_limits(tmp_path):
    wb = openpyxl.Workbook()
    for r in SMALL:
        wb.active.append(r)
    wb.active.cell(row=3, column=16384, value="far right")
    wb.save(tmp_path / "wide.xlsx")
    with pytest.raises(InputError, match="XFD.*MAX_COLUMNS") as exc:
        read_export(tmp_path / "wide.xlsx")
    assert exc.value.row == 3
    wb = openpyxl.Workbook()
    for r in SMALL:
        wb.active.append(r)
    wb.active.cell(row=1_000_000, column=1, value="far down")
    wb.save(tmp_path / "deep.xlsx")
    with pytest.raises(InputError, match="MAX_ROWS") as exc:
        read_export(tmp_path / "deep.xlsx")
    assert exc.value.row == 1_000_000


@pytest.mark.parametrize("container", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("limit", "value", "rows"),
    [
        ("MAX_ROWS", 20, [["pid", "comment"], *[[f"P{i}", SENTENCES[i % 8]] for i in range(40)]]),
        ("MAX_COLUMNS", 5, [[f"c{i}" for i in range(9)], [SENTENCES[0]] * 9]),
        ("MAX_CELLS", 30, [["pid", "comment"], *[[f"P{i}", SENTENCES[i % 8]] for i in range(40)]]),
        ("MAX_CELL_CHARS", 200, [["pid", "comment"], ["P1", "word " * 41]]),
        ("MAX_FILE_BYTES", 100, SMALL),
        ("MAX_RESPONSE_CELLS", 10, SMALL),
    ],
)
def test_limits_end_in_a_clear_error(tmp_path, monkeypatch, container, limit, value, rows):
    path = tmp_path / f"big.{container}"
    if container == "csv":
        _write_csv(path, rows)
    else:
        _workbook(path, rows)
    read_export(path, text_columns=[rows[0][-1]])  # fine within the default limits
    if container == "csv":  # text exports are streamed: their own row and cell limits
        limit = {"MAX_ROWS": "MAX_CSV_ROWS", "MAX_CELLS": "MAX_CSV_CELLS"}.get(limit, limit)
    monkeypatch.setattr(ingest, limit, value)
    with pytest.raises(InputError, match=limit) as exc:
        read_export(path, text_columns=[rows[0][-1]])
    assert exc.value.path.endswith(path.name) and "\n" not in str(exc.value)


def test_cell_at_the_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_CELL_CHARS", 200)
    text = ("x" * 199) + "."
    df, audit = read_export(_write_csv(tmp_path / "edge.csv", [["pid", "comment"], ["P1", text]]),
                     text_columns=["comment"])  # fmt: skip
    assert df["text_raw"].tolist() == [text]


def test_unclosed_quote_in_a_large_file_stops_at_the_cell_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_CELL_CHARS", 10_000)
    body = 'pid,comment\nP1,"never closed\n' + "P2,more text on a line\n" * 5_000
    (tmp_path / "open.csv").write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match="MAX_CELL_CHARS") as exc:
        read_export(tmp_path / "open.csv")
    assert exc.value.row == 2


@pytest.mark.parametrize(
    "body",
    [
        b"a,b\n" + b',"a' * 100_000,  # csv.Sniffer's expressions are quadratic on this
        b"pid,comment\n" + b"'a' ,'b' ;" * 30_000,
        b'pid,comment\n1,"' + b"<a " * 100_000 + b'"\n',
    ],
)
def test_hostile_text_ends_fast(tmp_path, body):
    p = tmp_path / "hostile.csv"
    p.write_bytes(body)
    t0 = time.perf_counter()
    try:
        read_export(p)
    except InputError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - t0 < 10


def test_cli_refuses_a_zip_bomb_in_one_line(tmp_path, capsys):
    good = _workbook(tmp_path / "good.xlsx", SMALL)
    bomb = _rezip(good, tmp_path / "bomb.xlsx", lambda n, d: d, {"xl/media/x.bin": bytes(30 << 20)})
    out = tmp_path / "out.csv"
    code = main(["clean", str(bomb), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "bomb.xlsx" in err and "zip bomb" in err
    assert not out.exists()
