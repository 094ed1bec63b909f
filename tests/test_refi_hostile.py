"""Hostile REFI-QDA inputs: nothing read from outside, limits, clear errors, atomic import.

Every archive here is SYNTHETIC and built by the test itself. Files that an import must
never read hold :data:`SECRET`; each test asserts that the secret appears in no output
file, no return value and no warning.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

import thematic.refi as refi
from thematic.codebook import Code, Codebook, Section, Theme, read_codebook
from thematic.coding import Memo, empty_codings, read_codings, read_memos, read_responses
from thematic.errors import InputError, ValidationError
from thematic.refi import (
    EXPORT_USER,
    MAX_CODE_DEPTH,
    guid_for,
    import_refi,
    qdpx_caveats,
    read_qde,
    read_qdpx,
    validate_refi,
    write_qdpx,
)

SECRET = "TOPSECRET-4242-do-not-copy"
PNS = "urn:QDA-XML:project:1.0"
P = f"{{{PNS}}}"
CODE = "C0DE0000-0000-4000-8000-000000000001"
USER = "05E40000-0000-4000-8000-000000000001"
INSIDE_TEXT = "Inside text, safe to read."


# --------------------------------------------------------------------------- builders


def _source(guid: str, name: str, *, path: str | None = None, content: str | None = None,
            start: str = "0", end: str = "6", code: str | None = CODE,
            sel_guid: str | None = None) -> str:
    attrs = f'guid="{guid}" name={quoteattr(name)}'
    if path is not None:
        attrs += f" plainTextPath={quoteattr(path)}"
    inner = f"<PlainTextContent>{content}</PlainTextContent>" if content is not None else ""
    sel = sel_guid or guid[:-3] + "5E1"
    coding = "" if code is None else (
        f'<Coding guid="{sel[:-3]}C0D" creatingUser="{USER}">'
        f'<CodeRef targetGUID="{code}"/></Coding>')
    inner += (f'<PlainTextSelection guid="{sel}" startPosition="{start}" endPosition="{end}" '
              f'creatingUser="{USER}">{coding}</PlainTextSelection>')
    return f"<TextSource {attrs}>{inner}</TextSource>"


def _project(sources: str, *, codes: str | None = None, notes: str = "",
             base_path: str | None = None, doctype: str = "", root: str = "Project",
             extra: str = "") -> bytes:
    codes = codes if codes is not None else \
        f'<Code guid="{CODE}" name="Code A" isCodable="true"/>'
    bp = f" basePath={quoteattr(base_path)}" if base_path is not None else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
            f'<{root} xmlns="{PNS}" name="hostile" origin="synthetic test"{bp}>'
            f'<Users><User guid="{USER}" name="ana"/></Users>'
            f"<CodeBook><Codes>{codes}</Codes></CodeBook>"
            f"<Sources>{sources}</Sources>{notes}{extra}</{root}>").encode()


INSIDE = _source("50000000-0000-4000-8000-000000000001", "inside",
                 path="internal://50000000-0000-4000-8000-000000000001.txt")


def _qdpx(dest: Path, qde: bytes, members: dict[str, bytes] | None = None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    members = {"sources/50000000-0000-4000-8000-000000000001.txt": INSIDE_TEXT.encode(),
               **(members or {})}
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        for name, data in members.items():
            zf.writestr(name, data)
    return dest


def _bare(folder: Path, qde: bytes) -> Path:
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    (folder / "sources" / "50000000-0000-4000-8000-000000000001.txt").write_text(
        INSIDE_TEXT, encoding="utf-8")
    (folder / "project.qde").write_bytes(qde)
    return folder / "project.qde"


@pytest.fixture()
def secret(tmp_path) -> Path:
    p = tmp_path / "private" / "secret.txt"
    p.parent.mkdir()
    p.write_text(SECRET + "\n", encoding="utf-8")
    return p


def _no_secret(out: Path, *things: object) -> None:
    """Assert the secret is in no file under ``out`` and in none of ``things``."""
    if out.exists():
        for f in out.rglob("*"):
            if f.is_file():
                assert SECRET.encode() not in f.read_bytes(), f
    for t in things:
        assert SECRET not in repr(t)


def _place(tmp_path: Path, kind: str, qde: bytes) -> Path:
    """The project as a .qdpx (two folders below tmp_path) or a bare .qde there."""
    where = tmp_path / "a" / "b"
    return _qdpx(where / "p.qdpx", qde) if kind == "qdpx" else _bare(where, qde)


# --------------------------------------------------------------------------- nothing read from outside


def _escaping_paths(secret: Path) -> dict[str, tuple[str, str | None]]:
    """Form name -> (plainTextPath, basePath) pointing at the secret from tmp/a/b/."""
    return {
        "absolute": (f"absolute://{secret}", None),
        "file": (f"file://{secret}", None),
        "relative-dotdot": ("relative://../../private/secret.txt", ""),
        "bare-dotdot": ("../../private/secret.txt", None),
        "bare-absolute": (str(secret), None),
        "internal-dotdot": ("internal://../../../private/secret.txt", None),
        "basepath-outside": ("relative://secret.txt", str(secret.parent)),
        "basepath-dotdot": ("relative://secret.txt", "../../private"),
        "backslashes": ("relative://..\\..\\private\\secret.txt", None),
    }


@pytest.mark.parametrize("kind", ["qdpx", "qde"])
@pytest.mark.parametrize("form", list(_escaping_paths(Path("/x"))))
def test_source_paths_outside_the_archive_are_never_read(tmp_path, secret, kind, form):
    path, base = _escaping_paths(secret)[form]
    qde = _project(INSIDE + _source("51000000-0000-4000-8000-000000000001", "leak", path=path),
                   base_path=base)
    src = _place(tmp_path, kind, qde)
    # by default: an error naming the source and the codings that depend on it
    with pytest.raises(ValidationError) as exc:
        import_refi(src, tmp_path / "strict")
    (problem,) = exc.value.problems
    assert problem.kind == "missing_source" and "'leak'" in problem.message
    assert "1 coding(s) depend on it" in problem.message and "not read" in problem.message
    assert not (tmp_path / "strict").exists()
    _no_secret(tmp_path / "strict", exc.value)
    # skipped: listed as a warning, the rest imported, the secret nowhere
    result = import_refi(src, tmp_path / "out", missing_sources="skip")
    written, warnings = result.written, result.warnings
    assert [w.kind for w in warnings if w.kind == "missing_source"] == ["missing_source"]
    resp = read_responses(written["responses"])
    assert list(resp["response_id"]) == ["inside"] and list(resp["text"]) == [INSIDE_TEXT]
    assert list(read_codings(written["codings"])["response_id"]) == ["inside"]
    _no_secret(tmp_path / "out", written, warnings)
    reader = refi.read_qdpx if kind == "qdpx" else refi.read_qde
    proj = reader(src, missing_sources="skip")
    _no_secret(tmp_path / "out", proj)


@pytest.mark.parametrize("kind", ["qdpx", "qde"])
def test_note_paths_outside_the_archive_are_never_read(tmp_path, secret, kind):
    notes = (f'<Notes><Note guid="70000000-0000-4000-8000-000000000001" name="leak" '
             f'plainTextPath={quoteattr("absolute://" + str(secret))}/>'
             f'<Note guid="70000000-0000-4000-8000-000000000002" name="leak2" '
             f'plainTextPath="relative://../../private/secret.txt"/></Notes>')
    src = _place(tmp_path, kind, _project(INSIDE, notes=notes))
    result = import_refi(src, tmp_path / "out")
    written, warnings = result.written, result.warnings
    assert [w.kind for w in warnings].count("missing_note") == 2
    assert {m.name for m in read_memos(written["memos"])} == {"leak", "leak2"}
    _no_secret(tmp_path / "out", written, warnings)


def test_symbolic_links_are_not_followed(tmp_path, secret):
    # a bare project whose sources/ holds a link to the secret
    folder = tmp_path / "proj"
    qde = _project(INSIDE + _source("51000000-0000-4000-8000-000000000001", "link",
                                    path="internal://link.txt"))
    _bare(folder, qde)
    (folder / "sources" / "link.txt").symlink_to(secret)
    with pytest.raises(ValidationError, match="'link'"):
        read_qde(folder / "project.qde")
    # the whole sources/ folder a link to the secret's folder
    folder2 = tmp_path / "proj2"
    folder2.mkdir()
    (folder2 / "sources").symlink_to(secret.parent, target_is_directory=True)
    (folder2 / "project.qde").write_bytes(_project(_source(
        "51000000-0000-4000-8000-000000000001", "dirlink", path="internal://secret.txt")))
    with pytest.raises(ValidationError, match="'dirlink'"):
        read_qde(folder2 / "project.qde")
    # a zip member that is a symbolic link (its content is the link target)
    info = zipfile.ZipInfo("sources/link.txt")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    arc = tmp_path / "l.qdpx"
    _qdpx(arc, qde)
    with zipfile.ZipFile(arc, "a") as zf:
        zf.writestr(info, str(secret))
    proj = read_qdpx(arc, missing_sources="skip")
    assert list(proj.responses["response_id"]) == ["inside"]
    assert [w.kind for w in proj.warnings].count("missing_source") == 1
    _no_secret(tmp_path / "none", proj)


def test_sources_dir_is_read_only_inside_it(tmp_path, secret):
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "sub" / "interview.txt").write_text("Allowed text.", encoding="utf-8")
    (allowed / "other.txt").write_text("Found by name.", encoding="utf-8")
    (allowed / "bylink.txt").symlink_to(secret)  # a link leading out: not followed
    sources = (INSIDE
               + _source("52000000-0000-4000-8000-000000000001", "by-path",
                         path="relative://sub/interview.txt")
               + _source("52000000-0000-4000-8000-000000000002", "by-name",
                         path="absolute://C:\\Users\\someone\\other.txt")
               + _source("52000000-0000-4000-8000-000000000003", "link",
                         path="relative://bylink.txt")
               + _source("52000000-0000-4000-8000-000000000004", "escape",
                         path="relative://../private/secret.txt")
               + _source("52000000-0000-4000-8000-000000000005", "absolute-secret",
                         path=f"absolute://{secret}"))
    src = _qdpx(tmp_path / "a" / "p.qdpx", _project(sources))
    result = import_refi(src, tmp_path / "out", missing_sources="skip", sources_dir=allowed)
    written, warnings = result.written, result.warnings
    resp = read_responses(written["responses"])
    texts = dict(zip(resp["response_id"], resp["text"], strict=True))
    assert texts == {"inside": INSIDE_TEXT, "by-path": "Allowed text.",
                     "by-name": "Found by name."}
    missing = sorted(w.message.split("'")[1] for w in warnings if w.kind == "missing_source")
    assert missing == ["absolute-secret", "escape", "link"]
    assert any(w.kind == "read_from_sources_dir" and "2 file(s)" in w.message
               for w in warnings)
    _no_secret(tmp_path / "out", written, warnings)
    with pytest.raises(InputError, match="does not exist"):
        read_qdpx(src, sources_dir=tmp_path / "nope")


def test_cli_sources_dir_and_one_line_error(tmp_path, secret, capsys):
    from thematic.cli import main

    src = _qdpx(tmp_path / "a" / "p.qdpx", _project(
        INSIDE + _source("51000000-0000-4000-8000-000000000001", "leak",
                         path=f"absolute://{secret}")))
    assert main(["import-refi", str(src), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'leak'" in err and "Traceback" not in err
    assert SECRET not in err and not (tmp_path / "out").exists()
    assert main(["import-refi", str(src), "-o", str(tmp_path / "out"),
                 "--sources-dir", str(secret.parent)]) == 0  # the user named it
    assert SECRET in (tmp_path / "out" / "responses.csv").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- limits


def _bomb_zip(path: Path, member: str, size: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", _project(_source(
            "53000000-0000-4000-8000-000000000001", "big", path=f"internal://{member}")))
        with zf.open(f"sources/{member}", "w") as fh:
            block = b"a" * 2**20
            for _ in range(size // len(block)):
                fh.write(block)
    return path


def test_zip_bomb_is_refused_early_in_little_memory(tmp_path):
    arc = _bomb_zip(tmp_path / "bomb.qdpx", "bomb.txt", 48 * 2**20)
    assert arc.stat().st_size < 2**20  # expands more than 48 times its size... and more
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(InputError, match=r"sources/bomb\.txt.*zip bomb"):
            import_refi(arc, tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5
    assert peak < 16 * 2**20, peak
    assert not (tmp_path / "out").exists()


def test_a_header_that_lies_about_the_size_ends_in_a_clear_error(tmp_path):
    arc = _bomb_zip(tmp_path / "big.qdpx", "big.txt", 3 * 2**20)
    # the central directory claims 1,000 bytes: no more is ever decompressed, and the
    # mismatch is named
    data = bytearray(arc.read_bytes())
    cd = data.find(b"sources/big.txt", data.find(b"PK\x01\x02")) - 46
    assert data[cd:cd + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, cd + 24, 1000)  # uncompressed size in the directory
    arc.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"sources/big\.txt.*CRC"):
        read_qdpx(arc)


def test_files_of_a_bare_project_are_read_within_the_limit(tmp_path, monkeypatch):
    folder = tmp_path / "bare"
    _bare(folder, _project(INSIDE))
    (folder / "sources" / "50000000-0000-4000-8000-000000000001.txt").write_text(
        "x" * 5000, encoding="utf-8")
    assert read_qde(folder / "project.qde").responses["text"][0] == "x" * 5000
    monkeypatch.setattr(refi, "MAX_MEMBER_BYTES", 2000)
    with pytest.raises(InputError, match=r"5000.*\.txt.*MAX_MEMBER_BYTES"):
        read_qde(folder / "project.qde")


def test_member_total_and_count_limits(tmp_path, monkeypatch):
    arc = _qdpx(tmp_path / "p.qdpx", _project(INSIDE),
                {f"sources/extra{i}.txt": b"x" * 5000 for i in range(8)})
    assert len(read_qdpx(arc).responses) == 1
    monkeypatch.setattr(refi, "MAX_ARCHIVE_MEMBERS", 5)
    with pytest.raises(InputError, match=r"10 members.*MAX_ARCHIVE_MEMBERS"):
        read_qdpx(arc)
    monkeypatch.undo()
    monkeypatch.setattr(refi, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(InputError, match=r"'project\.qde'.*MAX_MEMBER_BYTES"):
        read_qdpx(arc)
    monkeypatch.undo()
    monkeypatch.setattr(refi, "MAX_TOTAL_BYTES", len(_project(INSIDE)) + 5)
    with pytest.raises(InputError, match="MAX_TOTAL_BYTES"):
        read_qdpx(arc)


def test_xml_element_and_depth_limits(tmp_path, monkeypatch):
    many = "".join(_source(f"54000000-0000-4000-8000-{i:012d}", f"s{i}", content="hello!")
                   for i in range(30))
    qde = tmp_path / "many.qde"
    qde.write_bytes(_project(many))
    assert len(read_qde(qde).responses) == 30
    monkeypatch.setattr(refi, "MAX_XML_ELEMENTS", 50)
    with pytest.raises(InputError, match="MAX_XML_ELEMENTS"):
        read_qde(qde)
    monkeypatch.undo()
    deep = tmp_path / "deep.qde"
    deep.write_bytes(b'<Project xmlns="urn:QDA-XML:project:1.0" name="x">' + b"<a>" * 5000
                     + b"</a>" * 5000 + b"</Project>")
    with pytest.raises(InputError, match="MAX_XML_DEPTH"):
        import_refi(deep, tmp_path / "o")


def _nested_codes(n: int) -> str:
    return "".join(f'<Code guid="00000000-0000-4000-8000-{i:012d}" name="level {i}" '
                   f'isCodable="true">' for i in range(n)) + "</Code>" * n


@pytest.mark.parametrize("n", [MAX_CODE_DEPTH + 1, 200, 1500])
def test_deeply_nested_codes_end_in_a_clear_error(tmp_path, n):
    qdc = tmp_path / "deep.qdc"
    qdc.write_bytes(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{_nested_codes(n)}'
                    f"</Codes></CodeBook>".encode())
    with pytest.raises(InputError, match="MAX_CODE_DEPTH|MAX_XML_DEPTH") as exc:
        import_refi(qdc, tmp_path / "o")
    assert str(qdc) in str(exc.value)
    assert not (tmp_path / "o").exists()


def test_codes_as_deep_as_the_limit_import_and_load_again(tmp_path):
    qdc = tmp_path / "deep.qdc"
    qdc.write_bytes(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                    f"{_nested_codes(MAX_CODE_DEPTH)}</Codes></CodeBook>".encode())
    cb = read_codebook(import_refi(qdc, tmp_path / "o").written["codebook"])
    assert max(cb.to_frame()["depth"]) == MAX_CODE_DEPTH


def test_entities_are_neither_resolved_nor_cut(tmp_path, secret):
    doctype = (f'<!DOCTYPE Project [<!ENTITY inner "expanded">'
               f'<!ENTITY ext SYSTEM {quoteattr("file://" + str(secret))}>'
               '<!ENTITY a "aaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
               '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>')
    content = "before &inner; middle &ext; then &d; after"
    qde = tmp_path / "ent.qde"
    qde.write_bytes(_project(_source("55000000-0000-4000-8000-000000000001", "ent",
                                     content=content), doctype=doctype))
    written = import_refi(qde, tmp_path / "out").written
    (text,) = read_responses(written["responses"])["text"]
    assert text == content  # kept as written: the text after each reference is there
    _no_secret(tmp_path / "out", written)


# --------------------------------------------------------------------------- clear errors


def test_bad_crc_is_an_input_error_naming_the_member(tmp_path):
    arc = _qdpx(tmp_path / "p.qdpx", _project(INSIDE))
    with zipfile.ZipFile(arc) as zf:
        info = zf.getinfo("sources/50000000-0000-4000-8000-000000000001.txt")
    data = bytearray(arc.read_bytes())
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    arc2 = tmp_path / "stored.qdpx"  # a stored member: flip a byte of its text
    with zipfile.ZipFile(arc2, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("project.qde", _project(INSIDE))
        zf.writestr("sources/50000000-0000-4000-8000-000000000001.txt", INSIDE_TEXT)
    data = bytearray(arc2.read_bytes())
    pos = data.find(INSIDE_TEXT.encode())
    data[pos] ^= 0x20
    arc2.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"sources/5000.*\.txt.*CRC"):
        read_qdpx(arc2)
    # a corrupt deflate stream
    data = bytearray(arc.read_bytes())
    for k in range(start, start + 8):
        data[k] ^= 0xFF
    arc.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"sources/5000.*\.txt"):
        import_refi(arc, tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"\x00\x01garbage",
                                     b"PK" + os.urandom(200)])
def test_not_a_zip_is_an_input_error(tmp_path, content):
    f = tmp_path / "x.qdpx"
    f.write_bytes(content)
    with pytest.raises(InputError):
        import_refi(f, tmp_path / "o")
    with pytest.raises(InputError):
        read_qdpx(f)


@pytest.mark.parametrize("root", ["<html><body>hello</body></html>",
                                  '<Project xmlns="http://example.org/other" name="x"/>',
                                  "<CodeBookish/>"])
def test_a_root_that_is_not_refi_is_refused(tmp_path, root):
    arc = tmp_path / "h.qdpx"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("project.qde", root)
    with pytest.raises(InputError, match="root element is"):
        import_refi(arc, tmp_path / "o")
    bare = tmp_path / "h.qde"
    bare.write_text(root, encoding="utf-8")
    with pytest.raises(InputError, match="root element is"):
        import_refi(bare, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_duplicate_and_missing_code_guids(tmp_path):
    dup = ("<Code guid=\"C0DE0000-0000-4000-8000-000000000001\" name=\"first\" "
           "isCodable=\"true\"/><Code guid=\"c0de0000-0000-4000-8000-000000000001\" "
           "name=\"second\" isCodable=\"true\"/>")
    f = tmp_path / "dup.qde"
    f.write_bytes(_project(_source("56000000-0000-4000-8000-000000000001", "s",
                                   content="hello!"), codes=dup))
    with pytest.raises(InputError, match=r"c0de0000-0000-4000-8000-000000000001.*'first'.*"
                                         r"'second'"):
        read_qde(f)
    f.write_bytes(_project(_source("56000000-0000-4000-8000-000000000001", "s",
                                   content="hello!", code=""),
                           codes='<Code guid="" name="no guid" isCodable="true"/>'))
    with pytest.raises(InputError, match="'no guid' has no guid"):
        read_qde(f)


def test_codings_without_a_known_code_are_listed_not_attached(tmp_path):
    sources = (_source("57000000-0000-4000-8000-000000000001", "empty", content="hello!",
                       code="")
               + _source("57000000-0000-4000-8000-000000000002", "unknown", content="hello!",
                         code="99999999-0000-4000-8000-000000000009")
               + _source("57000000-0000-4000-8000-000000000003", "fine", content="hello!"))
    f = tmp_path / "c.qde"
    f.write_bytes(_project(sources))
    proj = read_qde(f)
    assert list(proj.codings["response_id"]) == ["fine"]
    kinds = [w.kind for w in proj.warnings]
    assert kinds.count("coding_without_code") == 1 and kinds.count("unknown_code_ref") == 1
    assert any("99999999-0000-4000-8000-000000000009" in w.message for w in proj.warnings)


def test_huge_offsets_name_the_selection(tmp_path, capsys):
    from thematic.cli import main

    f = tmp_path / "huge.qde"
    f.write_bytes(_project(_source("58000000-0000-4000-8000-000000000001", "s",
                                   content="hello!", start="0", end="9" * 400,
                                   sel_guid="58000000-0000-4000-8000-0000000005E1")))
    with pytest.raises(ValidationError) as exc:
        read_qde(f)
    (p,) = exc.value.problems
    assert p.kind == "bad_selection" and "58000000-0000-4000-8000-0000000005E1" in p.message
    assert "9223372036854775808" not in str(exc.value) and "9" * 100 not in str(exc.value)
    assert main(["import-refi", str(f), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "5E1" in err and "Traceback" not in err


def test_nothing_in_the_import_is_evaluated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = ("thematic_refi_metadata: 1\ncodes: !!python/object/apply:os.system "
            "['touch pwned']\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" + \
        "".join(f"c{i}: &c{i} [*b, *b, *b, *b, *b, *b, *b, *b]\n" for i in range(3))
    for text in (evil, bomb, "[" * 5000 + "]" * 5000):
        extra = (f'<Sets><Set guid="59000000-0000-4000-8000-000000000001" '
                 f'name="thematic metadata"><Description>{escape(text)}</Description>'
                 f"</Set></Sets>")
        f = tmp_path / "m.qde"
        f.write_bytes(_project(_source("59000000-0000-4000-8000-000000000002", "s",
                                       content="hello!"), extra=extra))
        t0 = time.perf_counter()
        proj = read_qde(f)
        assert time.perf_counter() - t0 < 5
        assert "metadata_ignored" in {w.kind for w in proj.warnings}
        assert proj.codebook.themes()[0].name == "Code A"
    assert not (tmp_path / "pwned").exists()
    # a memo whose front matter is an alias bomb is kept as text, not expanded
    notes = ('<Notes><Note guid="59000000-0000-4000-8000-000000000003" name="n">'
             f"<PlainTextContent>---\n{escape(bomb)}---\n\nbody\n</PlainTextContent>"
             "</Note></Notes>")
    f.write_bytes(_project(_source("59000000-0000-4000-8000-000000000002", "s",
                                   content="hello!"), notes=notes))
    (memo,) = read_qde(f).memos
    assert "&a [x" in memo.body and memo.body.endswith("body\n")


# --------------------------------------------------------------------------- all or nothing


def _good(tmp_path: Path) -> Path:
    notes = ('<Notes><Note guid="5A000000-0000-4000-8000-000000000001" name="memo-one">'
             "<PlainTextContent>A memo.</PlainTextContent></Note></Notes>")
    return _qdpx(tmp_path / "in" / "p.qdpx", _project(INSIDE, notes=notes))


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    src = _good(tmp_path)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(refi.import_, "write_csv", full_disk)  # responses.csv comes after the rest
    with pytest.raises(OSError, match="No space"):
        import_refi(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no temporary folder left
    # an existing output folder keeps its previous files untouched
    monkeypatch.undo()
    first = import_refi(src, tmp_path / "out").written
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert set(first) == {"codebook", "codings", "responses", "memos"}
    monkeypatch.setattr(refi.import_, "write_csv", full_disk)
    with pytest.raises(OSError):
        import_refi(_qdpx(tmp_path / "in2" / "p.qdpx", _project(INSIDE.replace(
            "inside", "changed"))), tmp_path / "out")
    after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "in2", "out"]


def test_a_failure_while_moving_restores_the_previous_files(tmp_path, monkeypatch):
    src = _good(tmp_path)
    out = tmp_path / "out"
    import_refi(src, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real = os.replace
    calls = {"n": 0}

    def flaky(a, b, *args, **kwargs):
        if Path(b).parent == out:  # a move into the output folder
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.EIO, "I/O error")
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky)
    other = _qdpx(tmp_path / "in2" / "p.qdpx", _project(INSIDE.replace("inside", "other")))
    with pytest.raises(OSError, match="I/O"):
        import_refi(other, out)
    monkeypatch.undo()
    assert calls["n"] >= 3  # the third move failed; the rest are the restores
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "in2", "out"]


def test_stale_staging_folders_of_dead_imports_are_removed(tmp_path):
    stale = tmp_path / ".out.import-999999999-abc.tmp"
    stale.mkdir()
    (stale / "codebook.yaml").write_text("partial", encoding="utf-8")
    import_refi(_good(tmp_path), tmp_path / "out")
    assert not stale.exists()
    assert (tmp_path / "out" / "codings.csv").is_file()


# --------------------------------------------------------------------------- what other tools read


@pytest.fixture()
def small_project():
    cb = Codebook(version="v1", status="candidate", date="2024-05-06", title="Small", sections=[
        Section("S1", "Section one", "A section", [
            Theme("T1", "Theme one", "Def", codes=[Code("C1", "Code one", "Code def")])])])
    import pandas as pd

    resp = pd.DataFrame({"response_id": ["R1", "R2"], "respondent_id": ["p1", "p2"],
                         "question": ["q", "q"], "text": ["First answer.", "Second one."]})
    cod = empty_codings()
    cod = pd.concat([cod, pd.DataFrame([{"response_id": "R1", "code": "T1", "start": 0,
                                         "end": 5, "excerpt": "First", "coder": "ana",
                                         "memo": pd.NA}])], ignore_index=True)
    memos = [Memo("2024-05-07-about-r1", "2024-05-07", "ben", ["R1"], "About R1.\n"),
             Memo("2024-05-08-about-t1", "2024-05-08", "ana", ["T1"], "About T1.\n"),
             Memo("2024-05-09-journal", "2024-05-09", "ana", [], "Journal.\n")]
    return cb, cod, resp, memos


def test_export_writes_notes_qualcoder_reads(tmp_path, small_project):
    cb, cod, resp, memos = small_project
    result = write_qdpx(tmp_path / "p.qdpx", cb, cod, resp, memos)
    out, caveats = result.path, result.caveats
    assert validate_refi(out).problems == []
    again = write_qdpx(tmp_path / "q.qdpx", cb, cod, resp, memos).path
    assert again.read_bytes() == out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        members = set(zf.namelist())
        users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
        assert users[guid_for("user", EXPORT_USER)] == EXPORT_USER
        notes = list(root.iter(f"{P}Note"))
        assert [n.get("name") for n in notes] == [m.name for m in memos]
        for note, memo in zip(notes, memos, strict=True):
            # QualCoder: path_ = plainTextPath.split('internal:/')[1], read from sources/
            path = note.get("plainTextPath")
            assert path == f"internal://{note.get('guid')}.txt"
            member = "sources" + path.split("internal:/")[1]
            assert member in members
            text = zf.read(member).decode("utf-8")
            assert text == memo.to_text() == note.find(f"{P}PlainTextContent").text
            assert users[note.get("creatingUser")] == memo.author
            assert note.get("creationDateTime") == f"{memo.date}T00:00:00Z"
            assert note.get("modifiedDateTime") == f"{memo.date}T00:00:00Z"
    for el in [*root.iter(f"{P}TextSource"),
               *(s for t in root.iter(f"{P}TextSource") for s in t.iter(f"{P}PlainTextSelection"))]:
        assert el.get("creatingUser") in users
        assert el.get("creationDateTime") == el.get("modifiedDateTime") == "2024-05-06T00:00:00Z"
    for el in root.iter(f"{P}TextSource"):
        assert users[el.get("creatingUser")] == EXPORT_USER
    # NoteRefs: the source R1, the theme T1, the project for the journal
    r1 = next(s for s in root.iter(f"{P}TextSource") if s.get("name") == "R1")
    g = {m.name: guid_for("note", m.name) for m in memos}
    assert [r.get("targetGUID") for r in r1.iter(f"{P}NoteRef")] == [g["2024-05-07-about-r1"]]
    t1 = next(c for c in root.iter(f"{P}Code") if c.get("guid") == guid_for("code", "T1"))
    assert [r.get("targetGUID") for r in t1.findall(f"{P}NoteRef")] == \
        [g["2024-05-08-about-t1"]]
    assert [r.get("targetGUID") for r in root.findall(f"{P}NoteRef")] == \
        [g["2024-05-09-journal"]]
    # QualCoder keeps a note referred to by a source only with a selection of that source
    about_r1 = notes[0].find(f"{P}PlainTextSelection")
    assert (about_r1.get("startPosition"), about_r1.get("endPosition")) == ("0", "13")
    assert notes[1].find(f"{P}PlainTextSelection") is None
    # the summary says what a receiving tool may not read
    text = " ".join(caveats)
    assert "Graph" in text and "code set" in text and "3 memo(s)" in text
    assert caveats == qdpx_caveats(cb, memos, resp)
    # and thematic reads it all back
    back = read_qdpx(out)
    assert back.memos == memos and back.codebook == cb


def test_import_reads_notes_inline_or_from_a_file(tmp_path):
    notes = ('<Notes>'
             '<Note guid="5B000000-0000-4000-8000-000000000001" name="inline" '
             f'creatingUser="{USER}" creationDateTime="2024-01-02T10:00:00Z">'
             "<PlainTextContent>Inline text.</PlainTextContent></Note>"
             '<Note guid="5B000000-0000-4000-8000-000000000002" name="filed" '
             f'creatingUser="{USER}" creationDateTime="2024-01-03T10:00:00Z" '
             'plainTextPath="internal://5B000000-0000-4000-8000-000000000002.txt"/>'
             "</Notes>")
    arc = _qdpx(tmp_path / "n.qdpx", _project(INSIDE, notes=notes),
                {"sources/5B000000-0000-4000-8000-000000000002.txt": b"Filed text."})
    memos = {m.name: m for m in read_qdpx(arc).memos}
    assert (memos["inline"].body, memos["inline"].author, memos["inline"].date) == \
        ("Inline text.\n", "ana", "2024-01-02")
    assert (memos["filed"].body, memos["filed"].date) == ("Filed text.\n", "2024-01-03")


def test_export_handles_an_empty_codebook_with_memos(tmp_path):
    import pandas as pd

    resp = pd.DataFrame({"response_id": ["R1"], "text": ["Only text."]})
    cb = Codebook(version="0", status="candidate")
    result = write_qdpx(tmp_path / "e.qdpx", cb, empty_codings(), resp,
                        [Memo("m", "2024-01-01", "ana", ["R1"], "Body.\n")])
    out = result.path
    assert (result.n_sources, result.n_codings, result.n_codes, result.n_memos) == (1, 0, 0, 1)
    assert validate_refi(out).problems == []
    assert read_qdpx(out).memos[0].about == ["R1"]


def test_long_sources_are_limited_and_offsets_map_in_linear_time(tmp_path, monkeypatch):
    from thematic.refi import normalise_text

    # decomposed accents (as macOS writes them) and CRLF on every line
    line = "Caf" + "e\u0301" + " line, coded.\r\n"
    raw = line * 20_000
    t0 = time.perf_counter()
    text, m = normalise_text(raw)
    assert time.perf_counter() - t0 < 10
    assert text == ("Caf\u00e9 line, coded.\n") * 20_000
    k = len(line) * 123  # the start of line 124 maps onto the start of its normalised line
    assert m[k] == len("Caf\u00e9 line, coded.\n") * 123 and m[-1] == len(text)
    f = tmp_path / "long.qde"
    f.write_bytes(_project(_source("5C000000-0000-4000-8000-000000000001", "long",
                                   content="x" * 5000)))
    assert len(read_qde(f).responses["text"][0]) == 5000
    monkeypatch.setattr(refi, "MAX_SOURCE_CHARS", 4000)
    with pytest.raises(InputError, match="'long'.*MAX_SOURCE_CHARS"):
        read_qde(f)


def test_cli_export_says_what_other_tools_may_not_read(tmp_path, capsys):
    import shutil

    from thematic.cli import main

    data = Path(__file__).parent / "data" / "coding"
    study = tmp_path / "study"
    assert main(["init", str(study), "--title", "Small study"]) == 0
    shutil.copy(data / "codebook_small.yaml", study / "corpus" / "coding" / "codebook.yaml")
    shutil.copy(data / "codings_small.csv", study / "corpus" / "coding" / "codings.csv")
    shutil.copy(data / "responses_small.csv", study / "corpus" / "processed" / "responses.csv")
    args = ["--project", str(study)]
    capsys.readouterr()
    assert main(["export-refi", str(tmp_path / "p.qdpx"), *args]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    assert any("Graph" in n for n in notes) and any("code set" in n for n in notes)
    assert main(["export-refi", str(tmp_path / "c.qdc"), *args]) == 0
    assert "note: " in capsys.readouterr().out
