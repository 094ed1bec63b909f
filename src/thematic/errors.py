"""Exceptions raised by :mod:`thematic`.

Every error that reaches a user names *where* the problem is: the file, and where it
applies the row (1-based, as a spreadsheet shows it), the column, or the code at fault.
The command-line interface prints ``str(error)`` on one line and exits non-zero.

One validation contract
    Every public ``validate_*`` function (:func:`thematic.coding.validate_codings`,
    :func:`thematic.schemas.validate_table`, :func:`thematic.refi.validate_refi`) *returns*
    a :class:`Report`: every :class:`Problem` found (errors and warnings), and where the
    check corrects what it reads, the corrected ``table``. It never raises for what it
    finds; :meth:`Report.raise_for_errors` turns the errors into a
    :class:`ValidationError`. Functions that coerce and raise are named otherwise
    (:func:`thematic.schemas.conform`).

One option check
    A bad value for an option (``level="topic"`` where ``"code"`` or ``"theme"`` is
    meant) raises :class:`InputError` through :func:`check_option`, naming the option,
    the value given and the values allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ThematicError", "InputError", "Problem", "ValidationError", "Report",
           "check_option"]


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
    severity : {"error", "warning"}
        An error makes what was checked unusable as it stands; a warning was corrected,
        or calls for attention.
    """

    kind: str
    message: str
    location: str = ""
    severity: Literal["error", "warning"] = "error"

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


@dataclass
class Report:
    """What a validator found: every problem, and the corrected table where there is one.

    Every public ``validate_*`` function of :mod:`thematic` returns one. It never raises
    for what it found: :meth:`raise_for_errors` does, when asked.

    Attributes
    ----------
    problems : list of Problem
        Every problem, errors first then warnings, each in the order found.
    what : str
        What was checked (a file name), used in messages.
    table : pandas.DataFrame or None
        The table as the validator corrected it (re-anchored codings, coerced dtypes),
        or ``None`` when the check corrects nothing or the table could not be read.

    Examples
    --------
    >>> from thematic.errors import Problem, Report
    >>> report = Report([Problem("unknown_code", "code 'X' is not in the codebook", "row 2")],
    ...                 what="codings.csv")
    >>> report.ok
    False
    >>> print(report)
    codings.csv: 1 error(s), 0 warning(s)
    error: [unknown_code] row 2: code 'X' is not in the codebook
    """

    problems: list[Problem] = field(default_factory=list)
    what: str = ""
    table: pd.DataFrame | None = None

    @property
    def errors(self) -> list[Problem]:
        """Problems that make what was checked unusable as it stands."""
        return [p for p in self.problems if p.severity != "warning"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that were corrected, or that call for attention."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """``True`` when there is no error (warnings allowed)."""
        return not self.errors

    def lines(self) -> list[str]:
        """Return one line per problem, errors first: ``error: [kind] location: message``."""
        return [f"{p.severity}: [{p.kind}] {p}" for p in self.errors + self.warnings]

    def to_frame(self) -> pd.DataFrame:
        """Return the problems as a table: ``severity, kind, location, message``."""
        import pandas as pd

        rows = [{"severity": p.severity, "kind": p.kind, "location": p.location,
                 "message": p.message} for p in self.errors + self.warnings]
        return pd.DataFrame(rows, columns=["severity", "kind", "location", "message"]).astype(
            "string")

    def raise_for_errors(self) -> None:
        """Raise :class:`ValidationError` listing every error, if there is one.

        Raises
        ------
        ValidationError
        """
        if self.errors:
            raise ValidationError(self.what or "input", self.errors)

    def __str__(self) -> str:
        head = f"{self.what or 'input'}: {len(self.errors)} error(s), " \
               f"{len(self.warnings)} warning(s)"
        return "\n".join([head, *self.lines()])


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise raise :class:`InputError`.

    Parameters
    ----------
    name : str
        The option (parameter) name, as the user wrote it.
    value : object
        The value given.
    allowed : iterable
        The values allowed, in the order to list them.

    Returns
    -------
    object
        ``value``, unchanged.

    Raises
    ------
    InputError
        Naming the option, the value given and the values allowed.

    Examples
    --------
    >>> from thematic.errors import check_option
    >>> check_option("level", "theme", ("code", "theme"))
    'theme'
    >>> check_option("level", "topic", ("code", "theme"))
    Traceback (most recent call last):
    ...
    thematic.errors.InputError: level must be one of 'code', 'theme', not 'topic'
    """
    options = list(allowed)
    try:
        ok = value in options
    except (TypeError, ValueError):  # e.g. an array compared with a string
        ok = False
    if not ok:
        raise InputError(f"{name} must be one of {', '.join(map(repr, options))}, "
                         f"not {value!r}")
    return value
