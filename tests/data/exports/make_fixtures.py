"""Regenerate the SYNTHETIC survey-export fixtures in this directory.

Every file here is synthetic: invented respondents, invented answers, fictional names,
reserved example e-mail domains, Ofcom drama phone numbers and NHS numbers that are
either invalid or drawn from the published test range. They imitate the layouts real
tools export (Qualtrics, Microsoft Forms, Google Forms, SurveyMonkey, plain tables) and
the encodings and dialects Excel and friends produce.

Run from the project root::

    .venv/bin/python tests/data/exports/make_fixtures.py

The output is byte-for-byte reproducible (XLSX files are re-zipped with fixed
timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-1252 codec)
import openpyxl

HERE = Path(__file__).resolve().parent
FIXED_ZIP_TIME = (2023, 1, 1, 0, 0, 0)

RM = "Racially Minoritised Caucus"
WC = "White Caucus"

Q_EXPERIENCE = "What has been your experience of the anti-racism community of practice?"
Q_LEARNING = "What have been some of your learning/reflections so far?"
Q_CAUCUS = "Which caucus are you part of?"
Q_RATING = "How would you rate today's session?"

# (group, experience, learning, rating) -- synthetic answers
ANSWERS = [
    (
        RM,
        "I value how honest people are in our caucus; it helps me feel connected to the others.",
        "I am starting to name experiences that I used to minimise, in supervision too.",
        "Very good",
    ),
    (
        WC,
        "I notice I question every contribution I make, especially when we feed back to the big group.",
        "I tend to intellectualise and stay detached \u2013 it was useful to have that \u201creflected\u201d back.",
        "Good",
    ),
    (
        RM,
        "It\u2019s a space where our experiences are validated.\nThat keeps me going between sessions.",
        "n/a",
        "Very good",
    ),
    (
        WC,
        "I feel irritated at the slow pace; I\u2019d like to see a move towards action.",
        "Silence in the room is not neutral. I will try to notice it and name it.",
        "Fair",
    ),
    (
        RM,
        "Speaking with Dr Khan after the session helped; you can reach me at sam.t@example.org.",
        "Nothing to add",
        "Good",
    ),
    (WC, "", "-", "Good"),
]


def _save_xlsx(wb: openpyxl.Workbook, path: Path) -> None:
    """Save a workbook with fixed metadata and zip timestamps (reproducible bytes)."""
    wb.properties.creator = "thematic synthetic fixtures"
    wb.properties.created = dt.datetime(2023, 1, 1)
    wb.properties.modified = dt.datetime(2023, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rb"\g<1>2023-01-01T00:00:00Z\g<2>",
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


def _csv_bytes(rows: list[list[object]], *, delimiter: str = ",", crlf: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


# ----------------------------------------------------------------------------- Qualtrics

Q_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
Q_QUESTIONS = [
    ("Q1", Q_CAUCUS, '{"ImportId":"QID1"}'),
    ("Q2", Q_EXPERIENCE, '{"ImportId":"QID2_TEXT"}'),
    ("Q3", Q_LEARNING, '{"ImportId":"QID3_TEXT"}'),
    ("Q4", Q_RATING, '{"ImportId":"QID4"}'),
]


def qualtrics_rows(legacy: bool = False) -> list[list[object]]:
    """Header rows + data rows of a synthetic Qualtrics export."""
    data = []
    for i, (group, exp, learn, rating) in enumerate(ANSWERS):
        status = "IP Address"
        finished, progress = "True", 100
        if i == 5:
            finished, progress = "False", 60
        start = f"2023-03-{14 + i // 3:02d} 10:{10 + i:02d}:00"
        end = f"2023-03-{14 + i // 3:02d} 10:{20 + i:02d}:41"
        data.append(
            [
                start,
                end,
                status,
                f"192.0.2.{10 + i}",
                progress,
                600 + i,
                finished,
                end,
                f"R_3synth{i:04d}AbCd",
                "",
                "",
                "",
                "",
                "53.79",
                "-1.54",
                "anonymous",
                "EN-GB",
                group,
                exp,
                learn,
                rating,
            ]
        )
    # a preview row made by the research team while testing the survey
    data.insert(
        2,
        [
            "2023-03-13 09:00:00",
            "2023-03-13 09:01:00",
            "Survey Preview",
            "",
            100,
            60,
            "True",
            "2023-03-13 09:01:00",
            "R_3preview0000Zz",
            "",
            "",
            "",
            "",
            "",
            "",
            "preview",
            "EN-GB",
            WC,
            "testing testing - please ignore this preview response",
            "test",
            "Good",
        ],
    )
    names = [m[0] for m in Q_META] + [q[0] for q in Q_QUESTIONS]
    texts = [m[1] for m in Q_META] + [q[1] for q in Q_QUESTIONS]
    imports = [m[2] for m in Q_META] + [q[2] for q in Q_QUESTIONS]
    if legacy:
        # legacy exporter: V1.. for metadata, names in the second row, no ImportId row
        legacy_meta = ["ResponseID", "ResponseSet", "IPAddress", "StartDate", "EndDate", "Finished"]
        names = [f"V{i + 1}" for i in range(len(legacy_meta))] + [q[0] for q in Q_QUESTIONS]
        texts = legacy_meta + [q[1] for q in Q_QUESTIONS]
        rows: list[list[object]] = [names, texts]
        for r in data:
            if r[2] == "Survey Preview":
                continue
            rows.append(
                [
                    r[8],
                    "Default Response Set",
                    r[3],
                    r[0],
                    r[1],
                    1 if r[6] == "True" else 0,
                    *r[17:],
                ]
            )
        return rows
    return [names, texts, imports, *data]


# ----------------------------------------------------------------------------- SurveyMonkey

SM_META = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
]
SM_TOPICS = ["Whiteness", "Accountability", "Othering"]


def surveymonkey_rows() -> list[list[object]]:
    """Two header rows (question / sub-header) and data rows, merged spans left blank."""
    r1: list[object] = [
        *SM_META,
        Q_CAUCUS,
        Q_EXPERIENCE,
        "Which topics were most useful?",
        None,
        None,
        None,
        "Any other comments?",
    ]
    r2: list[object] = [None] * len(SM_META) + [
        "Response",
        "Open-Ended Response",
        *SM_TOPICS,
        "Other (please specify)",
        "Open-Ended Response",
    ]
    rows = [r1, r2]
    extra = [
        "Having a separate space first made the joint discussion feel less risky for me.",
        "",
        "I would like more time in the integrated group next time, please.",
        "Thank you to the facilitators for holding the space so carefully.",
        "no",
        "I'd welcome a reading list on whiteness and accountability.",
    ]
    for i, (group, exp, _learn, _rating) in enumerate(ANSWERS):
        topics = [SM_TOPICS[k] if (i + k) % 2 == 0 else None for k in range(3)]
        other = "Forgiveness and permission seeking" if i == 1 else None
        rows.append(
            [
                11400000000 + i,
                420000000,
                f"03/14/2023 10:{10 + i:02d}:00 AM",
                f"03/14/2023 10:{20 + i:02d}:41 AM",
                f"198.51.100.{i + 1}",
                "",
                "",
                "",
                "",
                group,
                exp,
                *topics,
                other,
                extra[i],
            ]
        )
    return rows


def write_surveymonkey_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet"
    for r in surveymonkey_rows():
        ws.append(r)
    # merge the multi-column question header and the metadata headers over two rows
    first_topic = len(SM_META) + 3
    ws.merge_cells(start_row=1, start_column=first_topic, end_row=1, end_column=first_topic + 3)
    for c in range(1, len(SM_META) + 1):
        ws.merge_cells(start_row=1, start_column=c, end_row=2, end_column=c)
    _save_xlsx(wb, path)


# ----------------------------------------------------------------------------- MS Forms


def msforms_rows() -> list[list[object]]:
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        Q_CAUCUS,
        Q_EXPERIENCE,
        Q_LEARNING,
        Q_RATING,
    ]
    rows: list[list[object]] = [header]
    for i, (group, exp, learn, rating) in enumerate(ANSWERS):
        start = dt.datetime(2023, 3, 14, 10, 10 + i, 0)
        done = dt.datetime(2023, 3, 14, 10, 20 + i, 41)
        rows.append(
            [i + 1, start, done, "anonymous", None, None, group, exp or None, learn, rating]
        )
    return rows


def write_msforms_xlsx(path: Path, rows: list[list[object]] | None = None) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows or msforms_rows():
        ws.append(r)
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=3):
        for cell in row:
            cell.number_format = "m/d/yy h:mm:ss"
    _save_xlsx(wb, path)


# ----------------------------------------------------------------------------- Google Forms


def googleforms_rows() -> list[list[object]]:
    rows: list[list[object]] = [["Timestamp", Q_CAUCUS, Q_EXPERIENCE, Q_LEARNING]]
    for i, (group, exp, learn, _rating) in enumerate(ANSWERS):
        rows.append([f"{14 + i // 3}/03/2023 10:{20 + i:02d}:41", group, exp, learn])
    return rows


# ----------------------------------------------------------------------------- plain


def plain_rows() -> list[list[object]]:
    rows: list[list[object]] = [["pid", "caucus", "session", "comment"]]
    for i, (group, exp, _learn, _rating) in enumerate(ANSWERS):
        rows.append([f"P{i + 1:02d}", group, f"Session {1 + i % 2}", exp])
    return rows


def main() -> None:
    """Write every fixture."""
    w = HERE
    # Qualtrics: UTF-8 with BOM and CRLF, as Qualtrics' "CSV" download
    (w / "qualtrics-3row.csv").write_bytes(
        b"\xef\xbb\xbf" + _csv_bytes(qualtrics_rows(), crlf=True).encode("utf-8")
    )
    (w / "qualtrics-legacy-2row.csv").write_bytes(
        _csv_bytes(qualtrics_rows(legacy=True)).encode("utf-8")
    )
    wb = openpyxl.Workbook()
    for r in qualtrics_rows():
        wb.active.append(r)
    _save_xlsx(wb, w / "qualtrics-3row.xlsx")
    # Microsoft Forms (XLSX only, as Forms exports)
    write_msforms_xlsx(w / "msforms.xlsx")
    # Google Forms: UTF-8, LF, UK day/month timestamps
    (w / "googleforms.csv").write_bytes(_csv_bytes(googleforms_rows()).encode("utf-8"))
    # SurveyMonkey: CSV (merged header cells come out as blank cells) and XLSX (merged)
    (w / "surveymonkey.csv").write_bytes(_csv_bytes(surveymonkey_rows()).encode("utf-8"))
    write_surveymonkey_xlsx(w / "surveymonkey.xlsx")
    # plain table, CSV and XLSX
    (w / "plain.csv").write_bytes(_csv_bytes(plain_rows()).encode("utf-8"))
    wb = openpyxl.Workbook()
    for r in plain_rows():
        wb.active.append(r)
    _save_xlsx(wb, w / "plain.xlsx")
    # Excel "CSV" on a European-locale Windows: cp1252 and semicolons
    (w / "excel-cp1252-semicolon.csv").write_bytes(
        _csv_bytes(plain_rows(), delimiter=";", crlf=True).encode("cp1252")
    )
    # Excel "Unicode Text": UTF-16 LE with BOM, tab-separated, CRLF
    (w / "excel-unicode-text.txt").write_bytes(
        _csv_bytes(plain_rows(), delimiter="\t", crlf=True).encode("utf-16")
    )
    # tab-separated UTF-8 without BOM
    (w / "plain.tsv").write_bytes(_csv_bytes(plain_rows(), delimiter="\t").encode("utf-8"))
    # CRLF, quoted embedded newlines, trailing empty columns, duplicate column names
    rows = [["pid", "caucus", "comment", "comment", "", ""]]
    rows += [
        [
            "P01",
            RM,
            "First line of my answer.\r\nSecond line, after a break.",
            "A second comment box.",
            "",
            "",
        ],
        [
            "P02",
            WC,
            'It made me think about "professional" distance and what it protects.',
            "",
            "",
            "",
        ],
        [
            "P03",
            RM,
            "Short but real answer about feeling heard in the caucus today.",
            "Thanks all",
            "",
            "",
        ],
    ]
    (w / "crlf-embedded-newlines.csv").write_bytes(_csv_bytes(rows, crlf=True).encode("utf-8"))
    # mojibake: UTF-8 text that was once decoded as cp1252 and re-saved
    rows = [["pid", "caucus", "comment"]]
    rows += [
        [
            "P01",
            RM,
            "It\u2019s been really helpful \u2013 I feel \u201cseen\u201d".encode().decode(
                "sloppy-windows-1252"
            ),
        ],
        ["P02", WC, "The caf\u00e9 chat afterwards was where I learned the most about myself."],
        [
            "P03",
            RM,
            "I\u2019ve started raising issues I would have stayed quiet about.".encode().decode(
                "sloppy-windows-1252"
            ),
        ],
    ]
    (w / "mojibake.csv").write_bytes(_csv_bytes(rows).encode("utf-8"))

    # ---- bad input
    (w / "empty.csv").write_bytes(b"")
    (w / "header-only.csv").write_bytes(b"pid,caucus,comment\n")
    (w / "ragged.csv").write_bytes(
        b"pid,caucus,comment\nP01,White Caucus,A fine answer about the sessions overall.\n"
        b"P02,White Caucus,An answer, with an unquoted comma, that spills over\n"
    )
    good = (w / "msforms.xlsx").read_bytes()
    (w / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    (w / "binary.xlsx").write_bytes(bytes((i * 73 + 41) % 256 for i in range(2048)))
    (w / "mixed-encoding.csv").write_bytes(
        "pid,caucus,comment\nP01,White Caucus,It\u2019s fine and the caf\u00e9 was nice\n".encode()
        + b"P02,White Caucus,This line was typed in cp1252: caf\xe9\n"
    )
    (w / "unknown-layout.csv").write_bytes(
        _csv_bytes(
            [
                ["ref", "score", "answer"],
                ["A1", 3, "Yes"],
                ["A2", 4, "No"],
                ["A3", 5, "Yes"],
                ["A4", 2, "Yes"],
            ]
        ).encode("utf-8")
    )
    (w / "only-non-answers.csv").write_bytes(
        _csv_bytes(
            [
                ["pid", "comment"],
                ["P01", "n/a"],
                ["P02", "None"],
                ["P03", "-"],
                ["P04", "no comment"],
                ["P05", ""],
            ]
        ).encode("utf-8")
    )
    (w / "README.md").write_text(
        "# SYNTHETIC survey-export fixtures\n\n"
        "Every file in this directory is **synthetic** (invented respondents and answers, "
        "fictional names, reserved example domains and test-range numbers). They are "
        "generated by `make_fixtures.py`; do not edit them by hand:\n\n"
        "    .venv/bin/python tests/data/exports/make_fixtures.py\n\n"
        "Layouts: Qualtrics (3-row CSV with BOM+CRLF, legacy 2-row CSV, XLSX), Microsoft Forms "
        "(XLSX), Google Forms (CSV), SurveyMonkey (CSV, XLSX with merged headers), plain "
        'CSV/XLSX/TSV, Excel cp1252 `;` CSV, Excel UTF-16 "Unicode text", CRLF with '
        "embedded newlines, trailing empty and duplicate columns, mojibake. Bad input: "
        "`empty.csv`, `header-only.csv`, `ragged.csv`, `truncated.xlsx`, `binary.xlsx`, "
        "`mixed-encoding.csv`, `unknown-layout.csv`, `only-non-answers.csv`.\n\n"
        "The same script writes the SYNTHETIC example export in `corpus/examples/`.\n",
        encoding="utf-8",
    )


# ----------------------------------------------------------------------------- corpus/examples

EXAMPLE_QUESTIONS = [
    "Which caucus are you part of?",
    "What has been your experience of the anti-racism community of practice?",
    "What have been your emotional, personal and professional responses to caucusing?",
    "What have been some of your learning/reflections so far?",
    "How would you rate today's session?",
]
# (caucus, experience, responses to caucusing, learning, rating) -- SYNTHETIC answers
EXAMPLE_ANSWERS = [
    (
        RM,
        "Being with people who just get it, without having to explain, has been a relief.",
        "I felt lighter afterwards. Professionally I am braver about naming things in team meetings.",
        "I am starting to trust that my reactions are valid.",
        "Very good",
    ),
    (
        WC,
        "Uncomfortable in a useful way. I noticed how quickly I wanted to move to solutions.",
        "Defensive at first, then curious. I went quiet in the big group and I am still thinking about why.",
        "Silence is not neutral – I want to notice when I use it to stay safe.",
        "Good",
    ),
    (
        RM,
        "It’s the first space at work where I have talked about racism without being the teacher.",
        "Tearful, if I am honest. Dr Okafor’s reflection on tiredness really landed for me.",
        "n/a",
        "Very good",
    ),
    (
        WC,
        "I thought I knew a lot about this. I was wrong about how much I avoid it.",
        "Shame, and then a wish to do something with it rather than sit in it.",
        "I’d like to see a move towards action, e.g. in how we run recruitment panels.",
        "Fair",
    ),
    (
        RM,
        "Sam Taylor and I have started a peer group back at Northshire Community NHS Trust off the back of this.",
        "Hopeful. Connected. A bit angry about how long it has taken.",
        "Email me on s.taylor@example.org if anyone wants to join the peer group.",
        "Very good",
    ),
    (WC, "", "-", "Nothing to add", "Good"),
    (
        RM,
        "Mixed. The integrated space still feels like it centres white comfort.",
        "Exhausted after the joint discussion; I needed the caucus afterwards to recover.",
        "That I need to protect my energy and choose where I spend it.",
        "Fair",
    ),
    (
        WC,
        "Eye-opening. Hearing Priya describe her week made the statistics real.",
        "I noticed I wanted reassurance that I am one of the good ones. That is my work to do, not theirs.",
        "To stay with discomfort longer before I reach for a fix.",
        "Very good",
    ),
    # an accidental double submission of the respondent above
    (
        WC,
        "Eye-opening. Hearing Priya describe her week made the statistics real.",
        "I noticed I wanted reassurance that I am one of the good ones. That is my work to do, not theirs.",
        "To stay with discomfort longer before I reach for a fix.",
        "Very good",
    ),
    (
        RM,
        "Itâ€™s helped me feel less alone ​in the service.",
        "Relief. My supervisor (Amir Khan, 07700 900461) has noticed a change in me.",
        "Naming things early rather than carrying them home.",
        "Good",
    ),
    (
        WC,
        "Useful, though I worry it stays as talk. My NHS number is 999 123 4519 if the survey needs it.",
        "Guilt, then more useful questions about my own practice.",
        "Ask my team at Riverside Talking Therapies what gets in the way of raising concerns.",
        "Good",
    ),
    (RM, "none", "no comment", "don't know", "Fair"),
]


def make_examples(root: Path) -> None:
    """Write corpus/examples/: a SYNTHETIC MS Forms export plus names and organisations."""
    out = root / "corpus" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        *EXAMPLE_QUESTIONS,
    ]
    rows: list[list[object]] = [header]
    for i, (group, exp, resp, learn, rating) in enumerate(EXAMPLE_ANSWERS):
        day = 14 if i < 6 else 21
        start = dt.datetime(2023, 3, day, 16, 5 + i, 12)
        done = dt.datetime(2023, 3, day, 16, 12 + i, 48 if i != 8 else 50)
        rows.append(
            [i + 1, start, done, "anonymous", None, None, group, exp or None, resp, learn, rating]
        )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=3):
        for cell in row:
            cell.number_format = "m/d/yy h:mm:ss"
    note = wb.create_sheet("SYNTHETIC")
    note.append(
        ["SYNTHETIC DATA: invented respondents and answers for the thematic how-to notebook."]
    )
    note.append(
        [
            "Names, e-mail (example.org), phone (Ofcom drama range) and NHS number (999 test range) are fictional."
        ]
    )
    _save_xlsx(wb, out / "synthetic-msforms-export.xlsx")
    (out / "synthetic-names.txt").write_text(
        "# SYNTHETIC names list for corpus/examples/synthetic-msforms-export.xlsx\n"
        "# one name per line; '#' starts a comment\n"
        "Sam Taylor\nAmir Khan\nPriya Sharma\nChidi Okafor  # facilitator\n",
        encoding="utf-8",
    )
    (out / "synthetic-organisations.txt").write_text(
        "# SYNTHETIC organisations list for corpus/examples/synthetic-msforms-export.xlsx\n"
        "Northshire Community NHS Trust\nRiverside Talking Therapies\n",
        encoding="utf-8",
    )
    (out / "README.md").write_text(
        "# corpus/examples: SYNTHETIC example export\n\n"
        "**Everything in this directory is SYNTHETIC.** It was written for the how-to notebook\n"
        "`notebooks/howto-import-a-survey.ipynb` and contains no real respondent data.\n\n"
        "- `synthetic-msforms-export.xlsx`: a Microsoft Forms export (sheet `Sheet1`; the sheet\n"
        "  `SYNTHETIC` says so) of 12 invented responses from the Racially Minoritised Caucus and\n"
        "  the White Caucus, with the problems real exports have: an empty answer, non-answers,\n"
        "  an accidental double submission, mojibake, a zero-width space, and planted fictional\n"
        "  identifiers (names, an example.org e-mail address, an Ofcom drama-range phone number,\n"
        "  an NHS number from the 999 test range, organisations).\n"
        "- `synthetic-names.txt`, `synthetic-organisations.txt`: the lists a research team would\n"
        "  supply for de-identification (one per line, `#` comments).\n\n"
        "Regenerate with `.venv/bin/python tests/data/exports/make_fixtures.py` (byte-identical).\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
    make_examples(HERE.parents[2])
