"""Rule files promtool accepts and refuses, read by the importer's checks (tests/unit) and by
Debian's ``promtool check rules`` (tests/e2e) to show both decide the same way.

``INVALID`` maps a name to the document and a piece of the importer's message (where the
problem is).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"


def _one(rule: dict[str, Any], **group: Any) -> dict[str, Any]:
    return {"groups": [{"name": "g", **group, "rules": [rule]}]}


ALERT = {"alert": "A", "expr": "up == 0"}

VALID: dict[str, Any] = {
    **{path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("*.yml"))},
    "zero-for": _one({**ALERT, "for": "0", "keep_firing_for": "1h30m"}, interval="15s", limit=10),
    "templates": _one({**ALERT, "annotations": {
        "description": "{{ $labels.instance }} at {{ $value | humanize }} ({{ $externalLabels.env }})",
        "table": "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
        "assigned": "{{ $x := 1 }}{{ $x }}",
        "piped": '{{ $labels.x | printf "%s" }} {{ .Labels.x }} {{- if gt $value 1e3 }}big{{ else }}small{{ end -}}',
        "closing_only": "}} is text", "comment": "{{/* a comment */}}ok",
        "functions": "{{ humanizeDuration $value }} {{ reReplaceAll \"a\" \"b\" $labels.x | toUpper }}"}}),
    "record-and-alert": {"groups": [{"name": "g", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)",
                                                             "labels": {"tier": "1"}},
                                                            {**ALERT, "labels": {"severity": "critical"}}]}]},
    "two-groups": {"groups": [{"name": "a", "rules": [ALERT]}, {"name": "b", "rules": [ALERT]}]},
    "empty-group": {"groups": [{"name": "g", "rules": []}]},
}

INVALID: dict[str, tuple[Any, str]] = {
    "repeated-group": ({"groups": [{"name": "a", "rules": [ALERT]}, {"name": "a", "rules": [ALERT]}]},
                       "groups[1].name: groupname: 'a' is repeated"),
    "nameless-group": ({"groups": [{"rules": [ALERT]}]}, "groups[0].name: Groupname must not be empty"),
    "alert-and-record": (_one({**ALERT, "record": "r"}), "only one of 'record' and 'alert'"),
    "neither": (_one({"expr": "up"}), "one of 'record' or 'alert' must be set"),
    "no-expr": (_one({"alert": "A"}), "rules[0].expr: field 'expr' must be set"),
    "bad-promql": (_one({"alert": "A", "expr": "rate(up) > 0"}), "rules[0].expr: could not parse"),
    "unbalanced-promql": (_one({"alert": "A", "expr": "sum(up"}), "rules[0].expr: could not parse"),
    "bad-for": (_one({**ALERT, "for": "5 minutes"}), "rules[0].for: '5 minutes' is not a duration"),
    "unitless-for": (_one({**ALERT, "for": "300"}), "rules[0].for: '300' is not a duration"),
    "bad-keep-firing-for": (_one({**ALERT, "keep_firing_for": "1m1h"}), "rules[0].keep_firing_for"),
    "bad-interval": (_one(ALERT, interval="fast"), "groups[0].interval"),
    "record-with-for": (_one({"record": "r", "expr": "up", "for": "1m"}), "invalid field 'for' in recording rule"),
    "record-with-annotations": (_one({"record": "r", "expr": "up", "annotations": {"a": "b"}}),
                                "invalid field 'annotations' in recording rule"),
    "record-bad-name": (_one({"record": "r-1", "expr": "up"}), "invalid recording rule name 'r-1'"),
    "bad-label-name": (_one({**ALERT, "labels": {"a-b": "c"}}), "labels.a-b: invalid label name"),
    "name-label": (_one({**ALERT, "labels": {"__name__": "c"}}), "labels.__name__: invalid label name"),
    "bad-annotation-name": (_one({**ALERT, "annotations": {"run book": "x"}}), "invalid annotation name"),
    "unknown-rule-key": (_one({**ALERT, "severity": "critical"}), "field 'severity' not found"),
    "unknown-group-key": (_one(ALERT, evaluation_interval="1m"), "field 'evaluation_interval' not found"),
    "unknown-top-key": ({"groups": [], "rule_files": []}, "field 'rule_files' not found"),
    "unclosed-template": (_one({**ALERT, "annotations": {"summary": "{{ $labels.instance "}}), "is not closed"),
    "undefined-variable": (_one({**ALERT, "annotations": {"summary": "{{ $instance }}"}}),
                           "undefined variable '$instance'"),
    "unknown-template-function": (_one({**ALERT, "annotations": {"s": "{{ foo $value }}"}}),
                                  "function 'foo' not defined"),
    "if-without-end": (_one({**ALERT, "annotations": {"s": "{{ if $value }}x"}}), "has no {{end}}"),
    "end-without-if": (_one({**ALERT, "annotations": {"s": "x{{ end }}"}}), "unexpected {{end}}"),
    "template-in-label": (_one({**ALERT, "labels": {"team": "{{ $labels.team"}}), "labels.team: template"),
}
