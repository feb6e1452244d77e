"""Reading BagIt 1.0 tag files (RFC 8493): bagit.txt, bag-info.txt and the manifests, strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sha512")
HEX_LENGTHS = {"sha256": 64, "sha512": 128}
REQUIRED_INFO = ("Bagging-Date", "Payload-Oxum", "External-Identifier", "Arsip-Production-Id")
_LINE = re.compile(r"([0-9A-Fa-f]+)[ \t]+(.+)")
_ESCAPE = re.compile(r"%(25|0[AaDd])")
_UNESCAPED = {"25": "%", "0A": "\n", "0D": "\r"}
_OXUM = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def payload_manifest(algorithm: str) -> str:
    return f"manifest-{algorithm}.txt"


def tag_manifest(algorithm: str) -> str:
    return f"tagmanifest-{algorithm}.txt"


def decode_path(text: str) -> str:
    """Undo RFC 8493 §2.1.3's percent-encoding of ``%``, CR and LF in manifest paths."""
    return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1).upper()], text)


def split_lines(text: str) -> list[str]:
    """Lines ended by LF, CRLF or CR (all three are allowed in tag files), without the empty last one."""
    lines = re.split(r"\r\n|\n|\r", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


@dataclass
class Manifest:
    """``path -> lowercase hex digest`` and the lines that could not be read."""

    name: str
    algorithm: str
    digests: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_manifest(name: str, algorithm: str, data: bytes) -> Manifest:
    manifest = Manifest(name, algorithm)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        manifest.problems.append("is not UTF-8 text")
        return manifest
    expected = HEX_LENGTHS[algorithm]
    for number, line in enumerate(split_lines(text), start=1):
        match = _LINE.fullmatch(line)
        if match is None or len(match.group(1)) != expected:
            manifest.problems.append(f"line {number} is not '<{expected} hex digits> <path>': {line[:120]!r}")
            continue
        path = decode_path(match.group(2))
        if path in manifest.digests:
            manifest.problems.append(f"line {number} lists {path!r} a second time")
            continue
        manifest.digests[path] = match.group(1).lower()
    return manifest


@dataclass
class BagInfo:
    """bag-info.txt's labels (each may repeat) and the lines that could not be read."""

    values: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def first(self, label: str) -> str | None:
        found = self.values.get(label)
        return found[0] if found else None

    def oxum(self) -> tuple[int, int] | None:
        """Payload-Oxum as (octets, files), or None when it is missing, repeated or malformed."""
        found = self.values.get("Payload-Oxum", [])
        match = _OXUM.fullmatch(found[0]) if len(found) == 1 else None
        return (int(match.group(1)), int(match.group(2))) if match else None


def parse_bag_info(data: bytes) -> BagInfo:
    """``Label: value`` lines; a line starting with a space or tab continues the value above it."""
    info = BagInfo()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        info.problems.append("is not UTF-8 text")
        return info
    last: list[str] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if line[:1] in (" ", "\t") and last is not None:
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip() or label != label.strip():
            info.problems.append(f"line {number} is not 'Label: value': {line[:120]!r}")
            last = None
            continue
        last = info.values.setdefault(label, [])
        last.append(value.strip())
    for label in REQUIRED_INFO:
        if label not in info.values:
            info.problems.append(f"has no {label}")
    return info
