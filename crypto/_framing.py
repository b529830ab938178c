"""Unambiguous byte framing for labels and identifiers fed to KDFs, MACs and AEAD aad."""

import struct


def frame(*parts: bytes | str) -> bytes:
    """Concatenate parts, each preceded by its 4-byte big-endian length.

    Length prefixes make ("a|b", "c") and ("a", "b|c") different inputs, which plain
    joining with a separator would not.
    """
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        out += struct.pack(">I", len(raw))
        out += raw
    return bytes(out)
