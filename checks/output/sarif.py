"""SARIF 2.1.0, for code scanning: every rule with its help text, relative URIs against
`%SRCROOT%`, and our fingerprint as a partial fingerprint so alerts survive lines moving."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from checks import __version__
from checks.model import Severity
from checks.suppression import IGNORE_WITHOUT_REASON, UNUSED_IGNORE

if TYPE_CHECKING:
    from checks.api import AuditResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "readinessFingerprint/v1"
_ENGINE_RULES = {
    UNUSED_IGNORE: "A suppression comment that matches no finding",
    IGNORE_WITHOUT_REASON: "A suppression comment without a reason",
}


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
    for rule_id, title in _ENGINE_RULES.items():
        descriptors.append(
            {
                "id": rule_id,
                "shortDescription": {"text": title},
                "help": {
                    "text": "Give every `readiness: ignore[rule-id]` a reason; remove stale ones."
                },
                "defaultConfiguration": {"level": Severity.WARNING.value},
            }
        )
    return descriptors


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
                        "artifactLocation": {"uri": quote(f.path), "uriBaseId": "%SRCROOT%"},
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
                        "version": __version__,
                        "informationUri": "https://example.invalid/readiness-toolkit",
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": result.root.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
