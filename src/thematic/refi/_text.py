"""Text and offsets of :mod:`thematic.refi`: normalised source text, positions mapped onto it.

REFI-QDA positions count characters (code points) of a source as stored. thematic keeps
every text normalised (no BOM, LF line ends, NFC), so positions read from another tool
are mapped onto the normalised text (:func:`normalise_text`), and an export maps
thematic's positions onto the text it writes. The maps are built with array operations
in linear time, about 8 bytes a character (``_normalise``); only the chunks NFC may
change are normalised in Python.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

import numpy as np

__all__ = ["normalise_text"]


@functools.lru_cache(maxsize=1)
def _nfc_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point: is it a combining mark; does NFC change it on its own (built once)."""
    comb = np.zeros(0x110000, dtype=bool)
    alone = np.zeros(0x110000, dtype=bool)
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        if unicodedata.combining(ch):
            comb[c] = True
        elif unicodedata.normalize("NFC", ch) != ch:
            alone[c] = True
    return comb, alone


def _nfc_map(t: str) -> tuple[str, np.ndarray | None]:
    """NFC-normalise ``t`` chunk by chunk; the offset map, or None when nothing changed.

    A chunk is a character and the combining marks after it. Only the chunks NFC may
    change (found with array operations, in linear time) are normalised in Python;
    positions inside a chunk whose length changes map to its start.
    """
    if unicodedata.is_normalized("NFC", t):
        return t, None
    n = len(t)
    comb_t, alone_t = _nfc_tables()
    cps = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    is_c = comb_t[cps]
    next_c = np.zeros(n, dtype=bool)
    next_c[:-1] = is_c[1:]
    starter = ~is_c
    starter[0] = True
    starts = np.flatnonzero(starter & (next_c | alone_t[cps]))
    bounds = np.append(np.flatnonzero(starter), n)  # chunk starts, then the end
    ends = bounds[np.searchsorted(bounds, starts, side="right")]
    del cps, is_c, next_c, starter, bounds
    parts: list[str] = []
    prev = 0
    shifts: list[tuple[int, int, int]] = []  # (start, end, length change)
    for i, j in zip(starts.tolist(), ends.tolist(), strict=True):
        old = t[i:j]
        chunk = unicodedata.normalize("NFC", old)
        if chunk == old:
            continue
        parts.append(t[prev:i])
        parts.append(chunk)
        prev = j
        if len(chunk) != j - i:
            shifts.append((i, j, len(chunk) - (j - i)))
    parts.append(t[prev:])
    m = np.arange(n + 1, dtype=np.int64)
    if shifts:
        delta = np.zeros(n + 1, dtype=np.int64)
        for _, j, d in shifts:
            delta[j] += d
        np.cumsum(delta, out=delta)
        m += delta
        del delta
        for i, j, _ in shifts:
            m[i:j] = m[i]
    return "".join(parts), m


def _normalise(raw: str, *, bom_counts: bool = False,
               crlf_counts: bool = True) -> tuple[str, Sequence[int]]:
    """:func:`normalise_text` with a compact offset map (a range or an int64 array).

    Memory stays at about 8 bytes per character whatever the text (a Python list of
    ints takes 36).
    """
    has_bom = raw.startswith("\ufeff")
    s = raw[1:] if has_bom else raw
    if not crlf_counts:
        s = s.replace("\r\n", "\n")  # offsets index the text with one-character line ends
    n = len(s)
    m1: np.ndarray | None = None
    if "\r" in s:
        cps = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        drop = np.zeros(n, dtype=bool)  # the CR of a CRLF: maps to where its LF goes
        drop[:-1] = (cps[:-1] == 13) & (cps[1:] == 10)
        m1 = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(~drop, out=m1[1:])
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    text, m2 = _nfc_map(s)
    m: Sequence[int]
    if m1 is None and m2 is None:
        m = range(n + 1)
    else:
        m = m1 if m1 is not None else np.arange(n + 1, dtype=np.int64)
        if m2 is not None:
            m = m2[m]
    if has_bom and bom_counts:
        m = np.concatenate((np.zeros(1, dtype=np.int64), np.asarray(m, dtype=np.int64)))
    return text, m


def normalise_text(raw: str, *, bom_counts: bool = False,
                   crlf_counts: bool = True) -> tuple[str, list[int]]:
    """Normalise a source text (no BOM, LF line ends, NFC) and map offsets onto it.

    Parameters
    ----------
    raw : str
        Text as decoded from the stored file (a BOM, if any, still at the start).
    bom_counts : bool
        Whether offsets into ``raw`` count a leading BOM as a character.
    crlf_counts : bool
        Whether offsets into ``raw`` count a CRLF line end as two characters (the
        standard: code points as stored). ATLAS.ti and QualCoder count it as one.

    Returns
    -------
    text : str
        The normalised text.
    offsets : list of int
        ``offsets[i]`` is the position in ``text`` of position ``i`` of the stored text
        (``len(offsets) == number of counted characters + 1``).
    """
    text, m = _normalise(raw, bom_counts=bom_counts, crlf_counts=crlf_counts)
    return text, (list(m) if isinstance(m, range) else np.asarray(m).tolist())
