"""Findings of a verification: each names the object or record and says precisely what differs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the archive is not intact: exit 1
    WARNING = "warning"  # worth an operator's attention, integrity unaffected (e.g. an orphan object)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    subject: str  # an object key, "record <id>", "log entry <n>" ...
    message: str

    def line(self) -> str:
        return f"{self.severity.upper()} {self.code}: {self.subject}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"severity": str(self.severity), "code": self.code, "subject": self.subject,
                "message": self.message}


@dataclass
class Report:
    """What was checked (counts) and what failed (findings)."""

    findings: list[Finding] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)

    def error(self, code: str, subject: str, message: str) -> None:
        self.findings.append(Finding(Severity.ERROR, code, subject, message))

    def warning(self, code: str, subject: str, message: str) -> None:
        self.findings.append(Finding(Severity.WARNING, code, subject, message))

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": dict(self.checked), "findings": [f.to_json() for f in self.findings]}
