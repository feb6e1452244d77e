"""What verifying a package found: findings (capped per code for reading), per-document results, totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.verify.findings import Finding, Report, Severity

# A package signed with the wrong key fails every envelope the same way; a few hundred identical lines
# bury the one finding that matters. Every document is still marked; only the listing is capped.
MAX_FINDINGS_PER_CODE = 50


class Findings:
    """The Report, plus the first problem of each document a finding concerns."""

    def __init__(self, *, cap: int = MAX_FINDINGS_PER_CODE) -> None:
        self.report = Report()
        self.problems: dict[str, str] = {}
        self._cap = cap
        self._listed: Counter[str] = Counter()
        self._unlisted: Counter[tuple[Severity, str]] = Counter()

    def error(self, code: str, subject: str, message: str, *, docs: Iterable[str] = ()) -> None:
        self._add(Severity.ERROR, code, subject, message)
        for doc in docs:
            self.mark(doc, f"{code}: {subject}: {message}")

    def warning(self, code: str, subject: str, message: str) -> None:
        self._add(Severity.WARNING, code, subject, message)

    def mark(self, doc: str, problem: str) -> None:
        """Record ``problem`` against ``doc`` unless it already has an earlier one."""
        self.problems.setdefault(doc, problem)

    def count(self, what: str, amount: int = 1) -> None:
        self.report.checked[what] += amount

    def close(self) -> Report:
        """The report, with one line per code saying how many of its findings were not listed."""
        for (severity, code), hidden in sorted(self._unlisted.items()):
            self.report.findings.append(Finding(severity, code, "(more)",
                                                f"{hidden} more {code} findings are not listed"))
        self._unlisted.clear()
        return self.report

    def _add(self, severity: Severity, code: str, subject: str, message: str) -> None:
        self._listed[code] += 1
        if self._listed[code] > self._cap:
            self._unlisted[(severity, code)] += 1
        else:
            self.report.findings.append(Finding(severity, code, subject, message))


@dataclass(frozen=True)
class DocumentResult:
    """One row of index.csv after verification; ``problem`` is the first thing found wrong with it."""

    doc_id: str
    record_id: str
    status: str
    versions: int
    ok: bool
    problem: str | None

    def line(self) -> str:
        plural = "version" if self.versions == 1 else "versions"
        text = f"{'OK' if self.ok else 'FAIL':4} {self.doc_id}  record {self.record_id}  {self.versions} {plural} " \
               f"{self.status}"
        return text if self.ok else f"{text}: {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "record_id": self.record_id, "status": self.status,
                "versions": self.versions, "ok": self.ok, "problem": self.problem}


@dataclass
class PackageReport:
    """Everything ``verify_package`` established about one package."""

    package: Path
    report: Report
    documents: list[DocumentResult]
    totals: dict[str, int]
    trusted_keys: list[str] = field(default_factory=list)
    keys_source: str = ""
    checkpoint: dict[str, Any] | None = None
    timestamp: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    def codes(self, severity: Severity | None = None) -> set[str]:
        return {f.code for f in self.report.findings if severity is None or f.severity is severity}

    def to_json(self) -> dict[str, Any]:
        return {"package": str(self.package), "ok": self.ok, "totals": self.totals,
                "trusted_keys": {"source": self.keys_source, "key_ids": self.trusted_keys},
                "checkpoint": self.checkpoint, "timestamp": self.timestamp,
                "documents": [d.to_json() for d in self.documents], **self.report.to_json()}

    def text(self) -> Iterator[str]:
        """One line per document, then the findings, then a summary."""
        for document in self.documents:
            yield document.line()
        if self.report.findings:
            yield ""
        for finding in self.report.findings:
            yield finding.line()
        yield ""
        yield from self._summary()

    def _summary(self) -> Iterator[str]:
        errors = sum(1 for f in self.report.findings if f.severity is Severity.ERROR)
        warnings = len(self.report.findings) - errors
        t = self.totals
        verdict = "VERIFIED" if self.ok else "FAILED"
        yield (f"{verdict}: {self.package.name}: {t.get('documents', 0)} documents ({t.get('documents_ok', 0)} OK, "
               f"{t.get('documents_failed', 0)} failed); {errors} errors, {warnings} warnings")
        checked = ", ".join(f"{what.replace('_', ' ')}: {n}" for what, n in sorted(self.report.checked.items()))
        yield f"Checked: {checked or 'nothing'}"
        source = "from --keys" if self.keys_source == "file" else "from the package itself"
        yield f"Trusted keys ({source}): {', '.join(self.trusted_keys) or 'none'}"
        if self.checkpoint:
            yield f"Log checkpoint: {self.checkpoint['origin']} at size {self.checkpoint['size']}"
        if self.timestamp:
            yield f"Time-stamped: {self.timestamp['gen_time']} by {self.timestamp['tsa'] or 'an unnamed TSA'}"


def document_results(rows: Iterable[tuple[str, str, str, int]], problems: dict[str, str]) -> list[DocumentResult]:
    """``rows`` are (doc_id, record_id, status, versions) in index order."""
    return [DocumentResult(doc_id, record_id, status, versions, doc_id not in problems, problems.get(doc_id))
            for doc_id, record_id, status, versions in rows]
