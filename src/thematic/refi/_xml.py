"""XML and archive helpers of :mod:`thematic.refi`: GUIDs, elements, safe reading, schemas.

Writing: :func:`guid_for` (deterministic GUIDs), ``_el`` (an element in a REFI-QDA
namespace, text stripped of characters XML 1.0 cannot carry), ``_xml_bytes``.

Reading: every byte the import reads goes through here, within the limits of
:mod:`thematic.refi.limits`. ``_open_zip`` refuses what is not a zip or lists too many
members; ``_read_member`` and ``_read_file`` read in chunks, counting against the
member, compression-ratio and project (``_Budget``) limits; ``_parse_xml`` parses
without resolving entities, loading a DTD or touching the network, and stops at the
depth and element limits; ``_safe_yaml`` reads plain YAML data without aliases;
``_refi_root`` refuses a root that is neither ``Project`` nor ``CodeBook``. The small
navigation helpers (``_kids``, ``_kid_text``...) match elements by local name, so any
namespace version (``urn:QDA-XML:codebook:0:4``...) reads the same.

Checking: :func:`validate_refi` validates a ``.qdpx``, ``.qde`` or ``.qdc`` against the
REFI-QDA XSDs shipped in ``thematic/data/refi_qda``.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import uuid
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from ..errors import InputError, Problem, Report
from . import limits

__all__ = ["NAMESPACE", "METADATA_SET", "guid_for", "validate_refi"]

#: Namespace of every GUID this package makes (uuid5 over ``"<kind>:<stable id>"``).
NAMESPACE: uuid.UUID = uuid.UUID("0b7e2a56-3c1d-5f5e-9a57-7468656d6174")

#: Name of the code set that carries what REFI-QDA has no element for.
METADATA_SET: str = "thematic metadata"

_P = "urn:QDA-XML:project:1.0"
_C = "urn:QDA-XML:codebook:1.0"
_DEFAULT_DATE = "1980-01-01"

_RATIO_MIN_BYTES = 2**20  # the compression ratio is checked above this size
_CHUNK = 2**20  # bytes read, or fed to the XML parser, at a time


def guid_for(kind: str, key: str) -> str:
    """Return the deterministic GUID of a thing: UUID5 of ``"<kind>:<key>"``, upper case.

    Parameters
    ----------
    kind : str
        ``code``, ``source``, ``selection``, ``coding``, ``user``, ``note``, ``variable``,
        ``graph``, ``vertex``, ``edge``, ``set``.
    key : str
        Stable id.

    Returns
    -------
    str
    """
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}")).upper()


def _norm_guid(g: str | None) -> str:
    return (g or "").strip().strip("{}").lower()


# --------------------------------------------------------------------------- writing


def _el(parent: etree._Element | None, tag: str, ns: str, attrib: dict | None = None,
        text: str | None = None) -> etree._Element:
    attrs = {k: v for k, v in (attrib or {}).items() if v is not None}
    e = (etree.SubElement(parent, f"{{{ns}}}{tag}", attrs) if parent is not None
         else etree.Element(f"{{{ns}}}{tag}", attrs, nsmap={None: ns}))
    if text is not None:
        e.text = _xml_text(text)
    return e


def _xml_text(s: str) -> str:
    # XML 1.0 cannot carry most control characters; they never belong in survey text
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s)


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --------------------------------------------------------------------------- navigation


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _kid(el: etree._Element, name: str) -> etree._Element | None:
    k = _kids(el, name)
    return k[0] if k else None


def _text_of(el: etree._Element) -> str:
    """All the text of an element, comments left out.

    Entities are never resolved: a reference to one declared in the file's DTD is kept
    as written (``&name;``), and the text after it is kept too.
    """
    return "".join(el.itertext())


def _kid_text(el: etree._Element, name: str) -> str | None:
    k = _kid(el, name)
    return None if k is None else _text_of(k)


# --------------------------------------------------------------------------- safe reading


class _Budget:
    """Bytes read so far from one project, against ``MAX_TOTAL_BYTES``."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, n: int, what: str, where: str | os.PathLike[str] | None) -> None:
        self.used += n
        if self.used > limits.MAX_TOTAL_BYTES:
            raise InputError(f"reading {what} takes the project past {limits.MAX_TOTAL_BYTES:,} "
                             f"bytes uncompressed (limit MAX_TOTAL_BYTES)", path=where)


def _limit_error(what: str, n: int, where: str | os.PathLike[str] | None) -> InputError:
    return InputError(f"{what} is larger than {limits.MAX_MEMBER_BYTES:,} bytes uncompressed "
                      f"(limit MAX_MEMBER_BYTES; at least {n:,})", path=where)


def _open_zip(file: Any, where: str | os.PathLike[str] | None) -> zipfile.ZipFile:
    """Open a zip archive, refusing it clearly if it is not one or lists too many members."""
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError,
            ValueError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise InputError(f"not a valid .qdpx (zip) archive: {exc}", path=where) from None
    n = len(zf.infolist())
    if n > limits.MAX_ARCHIVE_MEMBERS:
        zf.close()
        raise InputError(f"the archive lists {n:,} members, more than "
                         f"{limits.MAX_ARCHIVE_MEMBERS:,} (limit MAX_ARCHIVE_MEMBERS)",
                         path=where)
    return zf


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo | str,
                 where: str | os.PathLike[str] | None, budget: _Budget) -> bytes:
    """Read one archive member in chunks, within the size, ratio and total limits.

    Raises
    ------
    InputError
        Naming the member: too large, too compressed (a zip bomb), a symbolic link, or
        unreadable (bad CRC, corrupt data, encrypted, unknown compression).
    """
    if isinstance(info, str):
        info = zf.getinfo(info)
    name = info.filename
    what = f"archive member {name!r}"
    if _is_symlink(info):
        raise InputError(f"{what} is a symbolic link; links are not followed", path=where)
    if info.file_size > limits.MAX_MEMBER_BYTES:
        raise _limit_error(what, info.file_size, where)
    ratio_cap = limits.MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
    if info.file_size > _RATIO_MIN_BYTES and info.file_size > ratio_cap:
        raise InputError(f"{what} expands {info.file_size / max(info.compress_size, 1):,.0f} "
                         f"times (limit MAX_COMPRESSION_RATIO = {limits.MAX_COMPRESSION_RATIO}): "
                         f"refused as a zip bomb", path=where)
    chunks: list[bytes] = []
    n = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                n += len(chunk)
                if n > limits.MAX_MEMBER_BYTES:
                    raise _limit_error(what, n, where)
                if n > _RATIO_MIN_BYTES and n > ratio_cap:
                    raise InputError(f"{what} expands more than "
                                     f"{limits.MAX_COMPRESSION_RATIO} times (limit "
                                     f"MAX_COMPRESSION_RATIO): refused as a zip bomb",
                                     path=where)
                budget.take(len(chunk), what, where)
                chunks.append(chunk)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError) as exc:
        raise InputError(f"{what} cannot be read: {exc}", path=where) from None
    return b"".join(chunks)


def _read_file(p: Path, budget: _Budget, *, what: str) -> bytes:
    """Read a regular file from disk in chunks, within ``MAX_MEMBER_BYTES``."""
    if not p.is_file():
        raise InputError(f"{what} not found (or not a regular file)", path=p)
    chunks: list[bytes] = []
    n = 0
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            n += len(chunk)
            if n > limits.MAX_MEMBER_BYTES:
                raise _limit_error(what, n, p)
            budget.take(len(chunk), what, p)
            chunks.append(chunk)
    return b"".join(chunks)


class _LimitedYamlLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses aliases and deep nesting (no bombs, no recursion)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not accepted")
        self._depth += 1
        try:
            if self._depth > limits.MAX_YAML_DEPTH:
                raise yaml.YAMLError(f"YAML nested deeper than {limits.MAX_YAML_DEPTH} levels "
                                     f"(limit MAX_YAML_DEPTH)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _safe_yaml(text: str) -> Any:
    """Load YAML data only (no tags, no aliases, bounded nesting); raises yaml.YAMLError."""
    loader = _LimitedYamlLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _find_qde(zf: zipfile.ZipFile, where: str | os.PathLike[str] | None = None
              ) -> zipfile.ZipInfo:
    infos = [i for i in zf.infolist() if i.filename.lower().endswith(".qde")
             and not i.is_dir() and not _is_symlink(i)]
    top = [i for i in infos if "/" not in i.filename.strip("/")]
    infos = top or infos
    if not infos:
        raise InputError("no .qde project file in the archive", path=where)
    infos.sort(key=lambda i: (i.filename.lower() != "project.qde", i.filename))
    return infos[0]


def _parse_xml(data: bytes, where: str | os.PathLike[str] | None,
               what: str = "") -> etree._Element:
    """Parse REFI-QDA XML within the limits (a BOM before ``<?xml``, as QualCoder writes, is fine).

    No entity is resolved, nothing is fetched, no DTD is loaded; the parse stops at
    ``MAX_XML_DEPTH`` levels and ``MAX_XML_ELEMENTS`` elements.
    """
    parser = etree.XMLPullParser(events=("start", "end"), resolve_entities=False,
                                 no_network=True, huge_tree=False, load_dtd=False,
                                 dtd_validation=False, remove_blank_text=False)
    prefix = f"{what}: " if what else ""
    depth = n = 0
    try:
        for i in range(0, len(data), _CHUNK):
            parser.feed(data[i:i + _CHUNK])
            for event, _ in parser.read_events():
                if event == "start":
                    n += 1
                    depth += 1
                    if depth > limits.MAX_XML_DEPTH:
                        raise InputError(f"{prefix}XML nested deeper than {limits.MAX_XML_DEPTH} "
                                         f"levels (limit MAX_XML_DEPTH)", path=where)
                    if n > limits.MAX_XML_ELEMENTS:
                        raise InputError(f"{prefix}more than {limits.MAX_XML_ELEMENTS:,} XML "
                                         f"elements (limit MAX_XML_ELEMENTS)", path=where)
                else:
                    depth -= 1
        return parser.close()
    except etree.XMLSyntaxError as exc:
        msg = " ".join(str(exc).split())
        if "Excessive depth" in msg:
            raise InputError(f"{prefix}XML nested deeper than {limits.MAX_XML_DEPTH} levels (limit "
                             f"MAX_XML_DEPTH; codes may nest {limits.MAX_CODE_DEPTH} deep)",
                             path=where) from None
        raise InputError(f"{prefix}not XML: {msg}", path=where) from None


def _refi_root(root: etree._Element, where: str | os.PathLike[str] | None,
               what: str = "") -> str:
    """``Project`` or ``CodeBook``; any other root (``<html>``...) is refused."""
    kind = _local(root)
    ns = etree.QName(root).namespace or "" if isinstance(root.tag, str) else ""
    if kind not in ("Project", "CodeBook") or (ns and "QDA-XML" not in ns):
        prefix = f"{what}: " if what else ""
        raise InputError(f"{prefix}neither a REFI-QDA project nor a codebook: root element is "
                         f"{kind!r}" + (f" in namespace {ns!r}" if ns else ""), path=where)
    return kind


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --------------------------------------------------------------------------- validation


@functools.lru_cache(maxsize=2)
def _schema(name: str):
    import xmlschema

    ref = resources.files("thematic").joinpath("data", "refi_qda", name)
    with resources.as_file(ref) as p:
        return xmlschema.XMLSchema(str(p))


def validate_refi(path_or_bytes: str | os.PathLike[str] | bytes) -> Report:
    """Validate a ``.qdpx`` (its ``.qde``), a bare ``.qde`` or a ``.qdc`` against the XSDs.

    The schema is chosen by the root element (``Project`` or ``CodeBook``), so a bare
    ``project.qde`` (an unzipped ``.qdpx``) is checked against the project schema. The
    archive is read within the import's limits (:mod:`thematic.refi.limits`).

    Parameters
    ----------
    path_or_bytes : path or bytes
        A ``.qdpx`` / ``.qde`` / ``.qdc`` file, or the bytes of one.

    Returns
    -------
    thematic.errors.Report
        ``problems``: every schema violation (kind ``"schema"``, located by its XML
        path); ``report.ok`` when the file is valid. ``table`` is ``None``.

    Raises
    ------
    InputError
        If the file is not a zip archive or XML, or exceeds a limit.

    Examples
    --------
    >>> import thematic
    >>> study = thematic.examples.load("staff-survey")
    >>> exported = study.write_refi(study.root / "codebook.qdc")
    >>> report = thematic.validate_refi(exported.path)
    >>> report.ok, len(report.problems)
    (True, 0)
    """
    where = None if isinstance(path_or_bytes, bytes) else Path(path_or_bytes)
    if where is None:
        data = path_or_bytes
    else:
        data = _read_file(where, _Budget(), what="file")
    if data[:2] == b"PK":
        with _open_zip(io.BytesIO(data), where) as zf:
            data = _read_member(zf, _find_qde(zf, where), where, _Budget())
    doc = _parse_xml(data, where)
    name = "Project-mrt2019.xsd" if _local(doc) == "Project" else "Codebook.xsd"
    what = str(where) if where is not None else "REFI-QDA bytes"
    problems = [Problem("schema", f"{e.reason or e} (schema {name})", f"{what} at {e.path}")
                for e in _schema(name).iter_errors(doc)]
    return Report(problems=problems, what=what)
