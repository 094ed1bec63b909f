"""Exchange with other qualitative analysis software: REFI-QDA (.qdpx, .qdc) and Taguette.

REFI-QDA (https://www.qdasoftware.org) is the exchange standard read and written by
NVivo, ATLAS.ti, MAXQDA, QualCoder and others. A ``.qdpx`` project is a zip archive with
``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``) and a ``sources/`` folder;
a ``.qdc`` holds a codebook alone (namespace ``urn:QDA-XML:codebook:1.0``).

Every public name is importable from here (``from thematic.refi import read_qdpx``).
The modules, in the order a reader may want them:

:mod:`thematic.refi.export`
    :func:`write_qdpx`, :func:`write_qdc` (and :func:`qdpx_bytes`,
    :func:`qdc_bytes`), :class:`RefiExport` (what was written, and
    :func:`qdpx_caveats`: what a receiving tool may not read), :data:`EXPORT_USER`:
    what goes where, byte-identical exports.
:mod:`thematic.refi.read`
    :func:`read_qdpx`, :func:`read_qde`, :func:`read_qdc`, :class:`RefiProject` (with
    the import's ``warnings``): files of other tools, hostile files, offsets.
:mod:`thematic.refi.import_`
    :func:`import_refi`: a file into ``codebook.yaml``, ``codings.csv``,
    ``responses.csv`` and memos, all written together or none; :class:`RefiImport`
    (the files written, and the warnings).
:mod:`thematic.refi.taguette`
    :func:`write_taguette_codebook`, :func:`read_taguette_codebook`,
    :func:`read_taguette_highlights`, :data:`TAGUETTE_CODEBOOK_COLUMNS`,
    :data:`TAGUETTE_HIGHLIGHTS_COLUMNS`.
:mod:`thematic.refi.limits`
    ``MAX_*``: what the import reads at most. ``thematic.refi.MAX_MEMBER_BYTES`` and
    the others are read from and set on that module.

Helpers: ``_xml`` (GUIDs, :data:`NAMESPACE`, :func:`guid_for`, :data:`METADATA_SET`,
XML elements, reading archives, XML and YAML within the limits, :func:`validate_refi`,
which returns a :class:`~thematic.errors.Report`),
``_text`` (:func:`normalise_text`: text normalised, offsets mapped onto it),
``_codebook`` (codes and the metadata set read from XML), ``_sources`` (source texts
found without leaving the archive).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from . import limits
from ._text import normalise_text
from ._xml import METADATA_SET, NAMESPACE, guid_for, validate_refi
from .export import EXPORT_USER, RefiExport, qdpx_caveats, write_qdc, write_qdpx
from .export import qdc_bytes as qdc_bytes
from .export import qdpx_bytes as qdpx_bytes
from .import_ import RefiImport, import_refi
from .read import RefiProject, read_qdc, read_qde, read_qdpx
from .taguette import (
    TAGUETTE_CODEBOOK_COLUMNS,
    TAGUETTE_HIGHLIGHTS_COLUMNS,
    read_taguette_codebook,
    read_taguette_highlights,
    write_taguette_codebook,
)

if TYPE_CHECKING:
    from .limits import (
        MAX_ARCHIVE_MEMBERS,
        MAX_CODE_DEPTH,
        MAX_COMPRESSION_RATIO,
        MAX_MEMBER_BYTES,
        MAX_POSITION,
        MAX_SOURCE_CHARS,
        MAX_TOTAL_BYTES,
        MAX_XML_DEPTH,
        MAX_XML_ELEMENTS,
        MAX_YAML_DEPTH,
    )

__all__ = [
    "NAMESPACE",
    "METADATA_SET",
    "RefiProject",
    "RefiExport",
    "RefiImport",
    "guid_for",
    "normalise_text",
    "write_qdpx",
    "write_qdc",
    "read_qdpx",
    "read_qdc",
    "read_qde",
    "import_refi",
    "validate_refi",
    "qdpx_caveats",
    "EXPORT_USER",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_XML_DEPTH",
    "MAX_XML_ELEMENTS",
    "MAX_CODE_DEPTH",
    "MAX_SOURCE_CHARS",
    "MAX_POSITION",
    "MAX_YAML_DEPTH",
    "TAGUETTE_CODEBOOK_COLUMNS",
    "TAGUETTE_HIGHLIGHTS_COLUMNS",
    "write_taguette_codebook",
    "read_taguette_codebook",
    "read_taguette_highlights",
]

def _limit(name: str) -> property:
    """Make ``name`` of the package read and set :mod:`thematic.refi.limits`'s value."""

    def get(_: types.ModuleType) -> Any:
        return getattr(limits, name)

    def set_(_: types.ModuleType, value: Any) -> None:
        setattr(limits, name, value)

    return property(get, set_, doc=f"See :data:`thematic.refi.limits.{name}`.")


class _RefiPackage(types.ModuleType):
    """The package, whose ``MAX_*`` limits live in :mod:`thematic.refi.limits`.

    The modules read the limits there when they read a file, so a limit read from or
    set on the package (``thematic.refi.MAX_MEMBER_BYTES = ...``) is read from or set
    on :mod:`thematic.refi.limits`: there is one value, whichever name is used.
    """

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *limits.__all__})


for _name in limits.__all__:
    setattr(_RefiPackage, _name, _limit(_name))
del _name

sys.modules[__name__].__class__ = _RefiPackage
