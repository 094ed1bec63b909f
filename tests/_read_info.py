"""What a read audit says about the reading: the tests' view of ``read_export``'s audit rows.

:func:`thematic.ingest.read_export` returns ``(responses, audit)`` and keeps nothing in
``DataFrame.attrs``; every fact the tests check about the reading is read back from the
audit rows the module docstring of :mod:`thematic.ingest` documents.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd


def read_info(audit: pd.DataFrame) -> dict[str, Any]:
    """Return the layout, header rows, encoding, delimiter and columns the audit records.

    Keys: ``format`` (comma-separated when several exports were read), ``header_rows``,
    ``encoding``, ``delimiter`` (``"\\t"`` for ``TAB``; ``None`` for a workbook),
    ``text_columns`` (columns taken as open text) and ``identifying_columns`` (columns
    left as identifying), each in the order of the audit.
    """
    rows = audit[audit["stage"] == "ingest"]

    def details(action: str, reason: str | None = None, prefix: str | None = None) -> list[str]:
        sel = rows[rows["action"] == action]
        if reason is not None:
            sel = sel[sel["reason"] == reason]
        if prefix is not None:
            sel = sel[sel["reason"].str.startswith(prefix)]
        return [str(d) for d in sel["detail"].tolist()]

    layouts = details("detect_format", "layout")
    header = re.search(r"\((\d+) header rows?\)", layouts[-1]) if layouts else None
    encodings = details("decode", "encoding")
    delimiters = details("read", "delimiter")
    return {
        "format": ",".join(d.split(" ")[0] for d in layouts),
        "header_rows": int(header.group(1)) if header else None,
        "encoding": encodings[-1].split(" ")[0] if encodings else None,
        "delimiter": ({"TAB": "\t"}.get(delimiters[-1], delimiters[-1])
                      if delimiters else None),
        "text_columns": details("take_column", prefix="open text"),
        "identifying_columns": details("leave_column", prefix="identifying"),
    }
