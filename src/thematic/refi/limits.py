"""Limits of what the REFI-QDA import reads: hostile or broken files stop here.

Every limit is checked while reading, so that a zip bomb, a deeply nested XML file or a
huge source text stops with a clear :class:`~thematic.errors.InputError` naming the
limit, before it exhausts memory. The values are read when a file is read: a caller
that needs more may raise one for a session, on this module or on the package
(``thematic.refi.MAX_MEMBER_BYTES = 2**28`` sets it here).
"""

from __future__ import annotations

__all__ = [
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
]

#: Most members (files and folders) a ``.qdpx`` archive may list.
MAX_ARCHIVE_MEMBERS: int = 50_000
#: Largest uncompressed size, in bytes, of one archive member or file the import reads
#: (``project.qde``, a source text, a note). A real ``project.qde`` of a large project
#: is a few tens of MB.
MAX_MEMBER_BYTES: int = 64 * 2**20
#: Largest total uncompressed size, in bytes, the import reads from one project.
MAX_TOTAL_BYTES: int = 512 * 2**20
#: Largest compression ratio (uncompressed / compressed size) of a member of more than
#: 1 MiB: text and XML compress 3 to 20 times; zip bombs 1,000 times.
MAX_COMPRESSION_RATIO: int = 200
#: Deepest element nesting accepted in REFI-QDA XML (libxml2's own default limit).
MAX_XML_DEPTH: int = 256
#: Most elements accepted in one REFI-QDA XML file (a project with 100,000 codings
#: has about 500,000).
MAX_XML_ELEMENTS: int = 2_000_000
#: Deepest nesting of codes accepted (a top-level code has depth 1). Real projects nest
#: codes fewer than ten levels deep; ``codebook.yaml`` takes two YAML levels per code
#: level, and thematic reads YAML at most 100 levels deep, so deeper codes could not be
#: loaded again.
MAX_CODE_DEPTH: int = 40
#: Longest source text accepted, in characters (about 5,000 pages; an interview
#: transcript has fewer than 100,000). Mapping offsets takes about 25 bytes a character.
MAX_SOURCE_CHARS: int = 16_000_000
#: Largest selection position accepted (a text of 10^12 characters does not exist).
MAX_POSITION: int = 10**12
#: Most nesting levels and aliases accepted in YAML embedded in a REFI-QDA file (the
#: metadata set, memo front matter). thematic writes no aliases.
MAX_YAML_DEPTH: int = 50
