"""Rewrites of an alert's PromQL text (pure): recording rules replaced by their expressions,
and a scrape job's ``job`` matcher and ``job`` in label lists (``by``, ``without``, ``on``,
``ignoring``, ``group_left``/``group_right``) as the OTLP output's resource labels
(CloudWatch's PromQL names a series' job ``@resource.service.name``, and
``@resource.service.namespace``)."""
from __future__ import annotations

from collections.abc import Mapping

from promwatch.reconcile.promql import parse_promql
from promwatch.reconcile.promql_lexicon import Token, tokens, unquote
from promwatch.reconcile.promql_tree import Matcher, Node, Selector
from promwatch.reconcile.templates_promql import JOB_LABEL, JOB_NAMESPACE_LABEL, job_labels

from promwatch_tools.importers.rulefile import Rule
from promwatch_tools.importers.rules_select import NoFaithfulForm, selectors

__all__ = ["MAX_EXPANSIONS", "expand_records", "otlp_query"]

MAX_EXPANSIONS = 10
"""Rounds of replacing recording rules (a record using a record, ...): more is a loop."""


def _replaced(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def expand_records(expr: str, records: Mapping[str, Rule]) -> tuple[str, list[str]]:
    """``expr`` with every bare use of a recorded series (``name``, no matchers, range or offset)
    replaced by ``(the record's expression)``, and the names replaced.

    Raises
    ------
    NoFaithfulForm
        When a recorded series is used with matchers, a range or an offset (its labels and history
        exist only in Prometheus), or records refer to each other in a loop.
    """
    replaced: list[str] = []
    for _ in range(MAX_EXPANSIONS):
        spans: list[tuple[int, int, str]] = []
        for selector in selectors(parse_promql(expr)):
            record = records.get(selector.name or "")
            if record is None:
                continue
            if selector.matchers or selector.range_ms is not None or selector.modified:
                raise NoFaithfulForm(f"it uses recording rule {record.name} with label matchers, a range or an "
                                     "offset: its series exist only in Prometheus (write the expression out)")
            spans.append((selector.start, selector.end, f"({record.expr})"))
            replaced.append(record.name)
        if not spans:
            return expr, replaced
        expr = _replaced(expr, spans)
    raise NoFaithfulForm(f"its recording rules refer to each other more than {MAX_EXPANSIONS} levels deep")


def _job_matchers(matcher: Matcher) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ", ".join(f"{quoted(k)}={quoted(v)}" for k, v in job_labels(matcher.value).items())


def otlp_query(expr: str) -> tuple[str, list[str]]:
    """``expr`` over the OTLP output's series, and what was changed or should be looked at.

    ``job="prod/api"`` becomes ``"@resource.service.namespace"="prod",
    "@resource.service.name"="api"``; other ``job`` matchers are kept and named.
    """
    node: Node = parse_promql(expr)
    spans: list[tuple[int, int, str]] = []
    notes: list[str] = []
    for selector in selectors(node):
        for matcher in _job_of(selector):
            if matcher.op == "=" and matcher.value:
                new = _job_matchers(matcher)
                spans.append((matcher.start, matcher.end, new))
                notes.append(f'job="{matcher.value}" is {new} over OTLP (the resource attributes the job is sent with)')
            else:
                notes.append(f'the matcher job{matcher.op}"{matcher.value}" is kept as written: over OTLP the job is '
                             "@resource.service.name (and @resource.service.namespace)")
    for token in _job_in_label_lists(tokens(expr)):
        start = token.column - 1
        spans.append((start, start + len(token.text), _JOB_RESOURCE_LABELS))
        notes.append(f"job in by/without/on/ignoring/group_left/group_right (...) is {_JOB_RESOURCE_LABELS} over "
                     "OTLP: job is no label there")
    return _replaced(expr, spans), list(dict.fromkeys(notes))


_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_JOB_RESOURCE_LABELS = f'"{JOB_NAMESPACE_LABEL}", "{JOB_LABEL}"'


def _job_in_label_lists(found: list[Token]) -> list[Token]:
    """The tokens naming ``job`` in the label lists of ``found`` (a query's tokens)."""
    jobs: list[Token] = []
    in_list = False
    for previous, token in zip([None, *found], found, strict=False):
        if token.kind == "op" and token.text == "(":
            in_list = previous is not None and previous.word in _LABEL_LISTS
        elif token.kind == "op" and token.text == ")":
            in_list = False
        elif in_list and (token.text == "job" or (token.kind == "string" and unquote(token) == "job")):
            jobs.append(token)
    return jobs


def _job_of(selector: Selector) -> list[Matcher]:
    return [m for m in selector.matchers if m.label == "job"]
