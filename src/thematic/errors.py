"""Exceptions raised by :mod:`thematic`.

Every error that reaches a user names *where* the problem is: the file, and where it
applies the row (1-based, as a spreadsheet shows it), the column, or the code at fault.
The command-line interface prints ``str(error)`` on one line and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike

__all__ = ["ThematicError", "InputError", "Problem", "ValidationError"]


class ThematicError(Exception):
    """Base class of every error :mod:`thematic` raises on purpose."""


class InputError(ThematicError, ValueError):
    """Bad input: a file, row, column or value that cannot be used as given.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    path : str or os.PathLike, optional
        The file at fault.
    row : int, optional
        1-based row number in the file (header rows included), or table row.
    column : str, optional
        The column at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Problem:
    """One problem found by a validator.

    Attributes
    ----------
    kind : str
        Short machine-readable category, e.g. ``"unknown_code"``.
    message : str
        Human-readable description naming the row, response, code or column at fault.
    location : str
        Where it is (file and row, response id, code id...). May be empty.
    """

    kind: str
    message: str
    location: str = ""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ValidationError(ThematicError, ValueError):
    """Several problems found at once (validators list every problem, not the first).

    Parameters
    ----------
    what : str
        What was validated, e.g. ``"codings.csv"``.
    problems : iterable of Problem
        Every problem found.
    """

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{what}: {n} problem{'s' if n != 1 else ''}"
        detail = "; ".join(str(p) for p in self.problems[:5])
        more = f"; ... and {n - 5} more" if n > 5 else ""
        super().__init__(f"{head}: {detail}{more}" if n else head)
