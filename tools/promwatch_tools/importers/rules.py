"""Prometheus alerting rules -> the dashboards/alarms spec's ``alarms`` (pure).

Each alerting rule becomes, by ``target``: a PromQL alarm over OTLP metrics (``otlp``: the
query as written, ``for`` the pending period, ``keep_firing_for`` the recovery period, the
group's ``interval`` the evaluation interval), a metric alarm over promwatch's EMF metrics
where one means the same (``emf``: :mod:`promwatch_tools.importers.rules_emf`), or both.
``summary``/``description`` and the other annotations and labels make the alarm's
description; the ``severity`` label picks the alarm actions. Recording rules are reported;
an alert using one gets its expression where the use is a bare name. Everything changed or
left out is a :class:`Finding`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promwatch.emf import EmfSettings
from promwatch.emf.naming import default_namespace
from promwatch.limits import (
    ALARM_DESCRIPTION_MAX_CHARS,
    ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD,
    ALARM_PERIODS_SUB_MINUTE,
    PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS,
    PROMQL_ALARM_PERIOD_MAX_SECONDS,
)
from promwatch.reconcile.promql import parse_promql
from promwatch.reconcile.promql_lexicon import INSTANT
from promwatch.reconcile.promql_tree import Node
from promwatch.regex import search_regex

from promwatch_tools.importers.findings import Finding, ImportInputError, ImportResult
from promwatch_tools.importers.rulefile import Rule, RuleGroup, parse_rule_file
from promwatch_tools.importers.rules_emf import Composite, LabelUse, MetricForm, NoFaithfulForm, emf_form
from promwatch_tools.importers.rules_otlp import expand_records, otlp_query

__all__ = ["DEFAULT_EVALUATION_INTERVAL", "TARGETS", "RulesOptions", "import_rules", "nearest_interval"]

TARGETS = ("otlp", "emf", "both")
DEFAULT_EVALUATION_INTERVAL = 60
"""Prometheus' default ``evaluation_interval`` (1m): a group without ``interval`` is evaluated so."""
SCRAPE_METRICS = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                            "scrape_samples_post_metric_relabeling"})
"""Published per target with the target labels as dimensions, whatever the emf settings."""
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class RulesOptions:
    """How rules are imported.

    Attributes
    ----------
    target
        ``otlp`` (PromQL alarms), ``emf`` (metric alarms) or ``both``.
    namespace
        The CloudWatch namespace of every rule's metrics (EMF).
    jobs
        Scrape job name -> its ``emf`` settings (from a scrape config): the namespace of a rule's
        ``job`` and the dimension sets it publishes.
    actions
        ``severity`` label value -> SNS topic ARNs notified when the alarm fires.
    """

    target: str = "emf"
    namespace: str | None = None
    jobs: Mapping[str, EmfSettings] = field(default_factory=dict)
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def nearest_interval(seconds: int) -> int:
    """The EvaluationInterval closest to ``seconds`` (10, 20, 30 s or whole minutes up to an hour; ties up)."""
    allowed = [*ALARM_PERIODS_SUB_MINUTE, *range(60, PROMQL_ALARM_EVALUATION_INTERVAL_MAX_SECONDS + 1, 60)]
    return min(allowed, key=lambda value: (abs(value - seconds), -value))


def import_rules(files: Sequence[tuple[str, Any]], options: RulesOptions) -> ImportResult:
    """A spec (``{"alarms": [...]}``) from rule files, and the findings of the import.

    Parameters
    ----------
    files
        (file name, document as loaded from YAML) of each rule file.
    options
        The target and where namespaces and actions come from.

    Raises
    ------
    ImportInputError
        When a file would not pass ``promtool check rules`` (every problem, one per line).
    """
    if options.target not in TARGETS:
        raise ImportInputError(f"target {options.target!r} is not known; expected one of {', '.join(TARGETS)}")
    groups: list[RuleGroup] = []
    problems: list[str] = []
    for origin, data in files:
        try:
            groups += parse_rule_file(data, origin)
        except ImportInputError as exc:
            problems.append(str(exc))
    if problems:
        raise ImportInputError("\n".join(problems))
    findings: list[Finding] = []
    records: dict[str, Rule] = {}
    for rule in (r for g in groups for r in g.rules if r.kind == "record"):
        findings.append(Finding(rule.path, f"recording rule {rule.name}: not carried over (CloudWatch has no "
                                           "recording rules); an alert using it bare gets its expression"))
        records.setdefault(rule.name, rule)
    importer = _Importer(options, findings, records)
    for group in groups:
        if group.limit:
            findings.append(Finding(f"{group.path}.limit", f"{group.limit}: not carried over (a CloudWatch alarm has "
                                                           "no limit on the series it finds)"))
        for rule in group.rules:
            if rule.kind == "alert":
                importer.alert(rule, group)
    if importer.labelled:
        findings.append(Finding("labels", "the spec's alarms have no tags: each rule's labels are written in its "
                                          "alarm description"))
    return ImportResult({"alarms": importer.alarms}, findings)


@dataclass
class _Importer:
    options: RulesOptions
    findings: list[Finding]
    records: Mapping[str, Rule]
    alarms: list[dict[str, Any]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    labelled: bool = False

    def note(self, rule: Rule, message: str, key: str = "") -> None:
        self.findings.append(Finding(f"{rule.path}{key}", f"alert {rule.name}: {message}"))

    def name(self, rule: Rule, suffix: str, base: str | None = None) -> str:
        base = (base or _NAME_CHARS.sub("-", rule.name))[: 200 - len(suffix) - 4] + suffix
        name, count = base, 1
        while name in self.names:
            count += 1
            name = f"{base}-{count}"
        if name != base:
            self.note(rule, f"the name {base!r} is taken: the alarm is {name!r}")
        self.names.add(name)
        return name

    def alert(self, rule: Rule, group: RuleGroup) -> None:
        if _NAME_CHARS.search(rule.name):
            self.note(rule, "an alarm name takes letters, digits, '_' and '-': the others became '-'")
        try:
            expr, expanded = expand_records(rule.expr, self.records)
        except NoFaithfulForm as exc:
            self.note(rule, f"not imported: {exc}", ".expr")
            return
        for record in expanded:
            self.note(rule, f"recording rule {record} replaced by its expression", ".expr")
        node = parse_promql(expr)
        if node.type != INSTANT:
            self.note(rule, f"not imported: the expression returns {node.type}s; an alarm needs an instant vector",
                      ".expr")
            return
        common = {"description": self.description(rule), "actions": self.actions(rule)}
        both = self.options.target == "both"
        if self.options.target in ("otlp", "both"):
            self.otlp(rule, group, expr, self.name(rule, "-otlp" if both else ""), common)
        if self.options.target in ("emf", "both"):
            self.emf(rule, node, self.name(rule, "-emf" if both else ""), common)

    def description(self, rule: Rule) -> str:
        annotations = dict(rule.annotations)
        parts = [annotations.pop("summary", ""), annotations.pop("description", "")]
        parts += [f"{key}: {value}" for key, value in annotations.items()]
        labels = {k: v for k, v in rule.labels.items() if k != "severity"}
        if labels:
            self.labelled = True
        parts.append("labels: " + ", ".join(f"{k}={v}" for k, v in rule.labels.items()) if rule.labels else "")
        text = "\n".join(p for p in parts if p) or f"Prometheus alert {rule.name}"
        if _TEMPLATE.search(text):
            self.note(rule, "{{ ... }} templates ($labels, $value) are not expanded by CloudWatch: the description "
                            "shows them as written", ".annotations")
        if len(text) > ALARM_DESCRIPTION_MAX_CHARS:
            self.note(rule, f"the description is cut to {ALARM_DESCRIPTION_MAX_CHARS} characters", ".annotations")
            text = text[:ALARM_DESCRIPTION_MAX_CHARS]
        return text

    def actions(self, rule: Rule) -> dict[str, list[str]]:
        severity = rule.labels.get("severity")
        if severity is None:
            self.note(rule, "no severity label, so no actions (--actions SEVERITY=ARN maps a severity): the alarm "
                            "notifies no one", ".labels")
            return {}
        arns = self.options.actions.get(severity)
        if not arns:
            self.note(rule, f"severity {severity!r} has no actions (--actions {severity}=ARN): the alarm notifies "
                            "no one", ".labels.severity")
            return {}
        return {"alarm": list(arns)}

    def otlp(self, rule: Rule, group: RuleGroup, expr: str, name: str, common: dict[str, Any]) -> None:
        query, notes = otlp_query(expr)
        for note in notes:
            self.note(rule, note, ".expr")
        interval = _seconds(group.interval_ms) if group.interval_ms else DEFAULT_EVALUATION_INTERVAL
        nearest = nearest_interval(interval)
        if nearest != interval:
            self.findings.append(Finding(f"{group.path}.interval", f"{interval}s is not an evaluation interval "
                                 f"CloudWatch takes: {nearest}s (10s, 20s, 30s or whole minutes up to 1h)"))
        promql = {"query": query, "pending_period": self.period(rule, rule.for_ms, "for"),
                  "recovery_period": self.period(rule, rule.keep_firing_for_ms, "keep_firing_for"),
                  "evaluation_interval": nearest}
        self.alarms.append({"name": name, **common, "promql": promql})

    def period(self, rule: Rule, millis: int, key: str) -> int:
        seconds = _seconds(millis)
        if seconds * 1000 != millis:
            self.note(rule, f"{millis} ms rounded up to {seconds}s (CloudWatch takes whole seconds)", f".{key}")
        if seconds > PROMQL_ALARM_PERIOD_MAX_SECONDS:
            self.note(rule, f"{seconds}s is longer than CloudWatch's {PROMQL_ALARM_PERIOD_MAX_SECONDS}s: cut to it",
                      f".{key}")
            seconds = PROMQL_ALARM_PERIOD_MAX_SECONDS
        return seconds

    def emf(self, rule: Rule, node: Node, name: str, common: dict[str, Any]) -> None:
        try:
            form = emf_form(node, self)
        except NoFaithfulForm as exc:
            self.note(rule, f"no faithful CloudWatch form over EMF metrics, not in the spec: {exc}", ".expr")
            return
        if rule.keep_firing_for_ms:
            self.note(rule, "a metric alarm has no recovery period: it returns to OK at the first period that "
                            "does not breach", ".keep_firing_for")
        if isinstance(form, MetricForm):
            self.alarms.append({"name": name, **common, **self.metric_fields(rule, form)})
            return
        children: list[str] = []
        rule_text = self.composite(rule, form, name, children)
        self.alarms.append({"name": name, **common, "rule": rule_text})
        self.note(rule, f"'and'/'or' became a composite alarm of {', '.join(children)} (a part firing for any "
                        "series counts, not only series with the same labels)", ".expr")

    def composite(self, rule: Rule, form: MetricForm | Composite, name: str, children: list[str]) -> str:
        if isinstance(form, MetricForm):
            child = self.name(rule, f"-{len(children) + 1}", base=name)
            children.append(child)
            self.alarms.append({"name": child, "description": f"Part of alarm {name} (Prometheus alert {rule.name}).",
                                **self.metric_fields(rule, form)})
            return f"ALARM({child})"
        left = self.composite(rule, form.left, name, children)
        right = self.composite(rule, form.right, name, children)
        return f"({left} {form.op} {right})"

    def metric_fields(self, rule: Rule, form: MetricForm) -> dict[str, Any]:
        fields = dict(form.fields)
        period = int(fields["period"])
        periods = max(1, math.ceil(_seconds(rule.for_ms) / period))
        most = ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD // period
        if periods > most:
            self.note(rule, f"'for' is {periods} periods of {period}s; CloudWatch evaluates at most "
                            f"{ALARM_MAX_EVALUATION_SECONDS_SHORT_PERIOD}s: cut to {most}", ".for")
            periods = most
        if periods > 1:
            fields.update(evaluation_periods=periods, datapoints_to_alarm=periods)
        for note in form.notes:
            self.note(rule, note, ".expr")
        for metric, job, dimensions in form.exact_sets:
            if metric in SCRAPE_METRICS:
                if not {"job", "instance"} <= set(dimensions):
                    self.note(rule, f"the alarm watches {metric} with exactly the dimensions {{{', '.join(dimensions)}}}: "
                                    f"promwatch publishes {metric} per target, its dimensions the target labels (job, "
                                    "instance, ...) whatever the emf settings, so this set matches nothing", ".expr")
            elif not self.published(metric, job, set(dimensions)):
                where = f"job {job!r}" if job else "the job"
                self.note(rule, f"the alarm watches {metric} with exactly the dimensions {{{', '.join(dimensions)}}}: "
                                f"CloudWatch matches a metric's whole dimension set, so {where} must publish that set "
                                "(metric_declarations or dimension_rollup_option)", ".expr")
        return fields

    def settings(self, job: str | None) -> EmfSettings | None:
        jobs = self.options.jobs
        if job is not None:
            return jobs.get(job)
        return next(iter(jobs.values())) if len(jobs) == 1 else None

    def namespace_for(self, job: str | None) -> str:
        if self.options.namespace:
            return self.options.namespace
        settings = self.settings(job)
        if settings is not None:
            return self.job_namespace(job)
        if job is not None and self.options.jobs:
            raise NoFaithfulForm(f"job {job!r} is not in the scrape config: its namespace is not known")
        raise NoFaithfulForm("the namespace of its metrics is not known: give --namespace, or --config with the "
                             "scrape config (the rule's job=\"...\" matcher names the job)")

    def job_namespace(self, job: str | None) -> str:
        """The namespace the scrape config gives ``job`` (the sole job's when None)."""
        name = job if job is not None else next(iter(self.options.jobs))
        settings = self.options.jobs[name]
        return self.options.namespace or settings.namespace or default_namespace(name)

    def label_use(self, metric: str, job: str | None, label: str) -> LabelUse:
        """Whether ``label`` is a dimension of ``metric`` as the job's emf settings publish it
        (unknown without a scrape config: taken as one)."""
        settings = self.settings(job)
        if settings is None or metric in SCRAPE_METRICS:
            return LabelUse()  # scrape metrics keep every target label as a dimension
        pattern = settings.log_only_pattern
        log_only = pattern is not None and pattern.matches(label)
        declared = [d for d in settings.metric_declarations
                    if any(_searches(p, metric) for p in d.metric_name_selectors)]
        rolled_up = settings.dimension_rollup_option != "NoDimensionRollup" and not log_only
        if settings.metric_declarations:
            if any(label in dimension_set for d in declared for dimension_set in d.dimensions) or rolled_up:
                return LabelUse()
            reason = "in no dimension set of the metric_declarations selecting it"
            reason += ", and in log_only_labels" if log_only else ""
        elif not log_only:
            return LabelUse()
        else:
            reason = "in log_only_labels"
        name = job if job is not None else next(iter(self.options.jobs))
        alone = label == "job" and not any(
            other != name and self.job_namespace(other) == self.job_namespace(name) for other in self.options.jobs)
        if label == "job" and not alone:
            reason += f"; namespace {self.job_namespace(name)!r} holds other jobs' metrics too"
        return LabelUse(dimension=False, reason=reason, implied=alone)

    def published(self, metric: str, job: str | None, dimensions: set[str]) -> bool:
        """Whether the job's emf settings publish ``metric`` with exactly ``dimensions``."""
        settings = self.settings(job)
        if settings is None:
            return False
        base = set(settings.rollup_base_dimensions)
        rollup = settings.dimension_rollup_option
        if rollup != "NoDimensionRollup" and base <= dimensions and len(dimensions - base) == 1:
            return True
        if rollup == "ZeroAndSingleDimensionRollup" and dimensions == base:
            return True
        return any(set(dimension_set) == dimensions
                   for declaration in settings.metric_declarations
                   if any(_searches(p, metric) for p in declaration.metric_name_selectors)
                   for dimension_set in declaration.dimensions)


def _searches(pattern: str, text: str) -> bool:
    return search_regex(pattern).matches(text)


def _seconds(millis: int) -> int:
    return math.ceil(millis / 1000)
