"""SARIF 2.1.0, for code scanning: every rule with its help text, relative URIs against
`%SRCROOT%`, and our fingerprint as a partial fingerprint so alerts survive lines moving."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from checks import __version__ as _source_version
from checks.model import Severity
from checks.suppression import ENGINE_RULES

if TYPE_CHECKING:
    from checks.api import AuditResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "readinessFingerprint/v1"
# The project's home as pyproject.toml's [project.urls] names it; used when not installed.
HOMEPAGE = "https://github.com/readiness-toolkit/readiness-toolkit"


def tool_version() -> str:
    """The installed distribution's version (what `--version` prints); the build-time version
    file of a source tree only when nothing is installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("readiness-toolkit")
    except PackageNotFoundError:
        return _source_version


def information_uri() -> str:
    """The project's Homepage (else Repository) URL from the installed distribution."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        entries = metadata("readiness-toolkit").get_all("Project-URL") or []
    except PackageNotFoundError:
        return HOMEPAGE
    urls = {}
    for entry in entries:
        label, _, url = str(entry).partition(",")
        urls[label.strip().lower()] = url.strip()
    return urls.get("homepage") or urls.get("repository") or HOMEPAGE


def _uri(path: str) -> str:
    """A relative URI for a path; a name that is not UTF-8 keeps its bytes, percent-encoded."""
    return quote(path.encode("utf-8", "surrogateescape"))


def _location(path: str) -> dict[str, Any]:
    return {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}


def _rule_descriptors(result: AuditResult) -> list[dict[str, Any]]:
    descriptors = [
        {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.docs.split("\n\n", 1)[-1].split("\n\n")[0]},
            "help": {"text": rule.docs, "markdown": rule.docs},
            "defaultConfiguration": {"level": rule.severity.value},
        }
        for rule in result.rules
    ]
    for rule_id, (title, docs) in ENGINE_RULES.items():
        descriptors.append(
            {
                "id": rule_id,
                "shortDescription": {"text": title},
                "help": {"text": docs, "markdown": docs},
                "defaultConfiguration": {"level": Severity.WARNING.value},
            }
        )
    return descriptors


def _invocation(result: AuditResult) -> dict[str, Any]:
    """The run itself, with a note for every file that was skipped (binary, huge, not UTF-8):
    code scanning shows them, so a skipped file is not mistaken for a clean one."""
    notes = [
        {
            "level": "note",
            "message": {"text": f"skipped: {item['reason']}"},
            "locations": [{"physicalLocation": {"artifactLocation": _location(item["path"])}}],
        }
        for item in result.summary.get("skipped", [])
    ]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}


def render(result: AuditResult, color: bool = False) -> str:
    descriptors = _rule_descriptors(result)
    index = {descriptor["id"]: position for position, descriptor in enumerate(descriptors)}
    results = []
    for f in result.findings:
        record: dict[str, Any] = {
            "ruleId": f.rule,
            "level": f.severity.value,
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _location(f.path),
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        }
        if f.rule in index:
            record["ruleIndex"] = index[f.rule]
        results.append(record)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "readiness-check",
                        "version": tool_version(),
                        "informationUri": information_uri(),
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": result.root.resolve().as_uri() + "/"}},
                "invocations": [_invocation(result)],
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
