"""Load a spec directory: YAML files -> validated, expanded :class:`Spec`, or every problem at once."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promwatch.errors import PromwatchError
from promwatch.reconcile import templates
from promwatch.reconcile.errors import PackError, SpecError
from promwatch.reconcile.model import Spec
from promwatch.reconcile.render import composite_references
from promwatch.reconcile.spec import AlarmSpec, DashboardSpec
from promwatch.reconcile.spec_file import GenerateSpec, SpecFile
from promwatch.reconcile.templates import QueryLanguage
from promwatch.safeload import DocumentError, load_yaml, read_text

__all__ = ["format_location", "load_spec", "spec_files"]

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_SCRAPE_CONFIG = "../scrape.yaml"
"""The scrape config ``query_language: auto`` reads, relative to the spec file: ``config/scrape.yaml``."""
DEFAULT_INSIGHTS_RULES = "../insights.yaml"
"""The roll-up rules the ``insights`` pack reads, relative to the spec file: ``config/insights.yaml``."""


def format_location(loc: Iterable[Any]) -> str:
    """``("alarms", 0, "stat")`` -> ``alarms[0].stat``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _problems(path: Path, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = format_location(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if message.startswith("@"):
            field, _, message = message[1:].partition(": ")
            location = f"{location}.{field}" if location else field
        elif error["type"] not in ("value_error", "assertion_error") and not isinstance(error["input"], dict | list):
            message = f"{message}; got {error['input']!r:.80}"
        problems.append(f"{path}: {location or '(top level)'}: {message}")
    return problems


def spec_files(directory: Path) -> list[Path]:
    """The spec files of ``directory`` (``*.yaml``, ``*.yml``), in name order."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in SPEC_SUFFIXES)


def _languages(generate: GenerateSpec, path: Path) -> tuple[tuple[QueryLanguage, ...], str]:
    """The query languages of a job pack, and the scrape config's text when ``auto`` read it.

    ``auto``: the job's ``outputs`` in the scrape config decide, ``metrics`` for EMF and
    ``promql`` for OTLP (both when it sends both).
    """
    if generate.query_language != "auto":
        return (generate.query_language,), ""
    from promwatch.scrape.config import ScrapeConfig

    source = path.parent / (generate.scrape_config or DEFAULT_SCRAPE_CONFIG)
    given = f"scrape_config {generate.scrape_config!r}" if generate.scrape_config else \
        f"no scrape_config, so the default {DEFAULT_SCRAPE_CONFIG}"
    read = _read_pack_file("scrape_config", source, f"query_language auto reads the job's outputs from {source} "
                           f"({given})", "a scrape config there, or scrape_config: PATH (relative to the spec "
                           "file), or query_language metrics or promql")
    try:
        job = ScrapeConfig.model_validate(load_yaml(read) or {}).job(generate.job or "")
    except KeyError:
        raise PackError("job", f"query_language auto: {source} has no job {generate.job!r}; expected the "
                        "scrape job_name the pack is for") from None
    chosen: list[QueryLanguage] = []
    if job.sends_emf:
        chosen.append("metrics")
    if job.otlp is not None:
        chosen.append("promql")
    if generate.max_series and "metrics" not in chosen:
        # as with query_language: promql: the budget trims a job's EMF output only (its alarm reads the
        # ActiveSeries self-metric), so a job sending OTLP alone has no series budget to alarm on
        raise PackError("max_series", f"job {generate.job!r} sends OTLP only ({source}), and the series budget "
                        "alarm watches the EMF series the budget trims; expected no max_series, or a job with "
                        "an emf output")
    return tuple(chosen), read


def _read_pack_file(key: str, source: Path, reads: str, expected: str) -> str:
    """The text of a file a pack reads; one it cannot read is a problem at the pack's ``key``, naming the
    path tried and what was expected there."""
    try:
        return read_text(source)
    except OSError as exc:
        raise PackError(key, f"{reads}, which cannot be read: {exc.strerror}; expected {expected}") from None


def _expand(generate: GenerateSpec, path: Path) -> tuple[list[DashboardSpec], list[AlarmSpec], str]:
    """The pack's dashboards and alarms, and the text of the files it was made from (if any)."""
    if generate.pack in ("insights", "health"):
        return _expand_as(generate, path, "metrics")
    languages, read = _languages(generate, path)
    dashboards: list[DashboardSpec] = []
    alarms: list[AlarmSpec] = []
    for language in languages:
        made_dashboards, made_alarms, pack_read = _expand_as(generate, path, language)
        if language == "promql" and len(languages) > 1:  # beside the classic ones: names must differ
            made_dashboards = [d.model_copy(update={"name": f"{d.name}-promql"}) for d in made_dashboards]
            made_alarms = [a.model_copy(update={"name": f"{a.name}-promql"}) for a in made_alarms]
        dashboards += made_dashboards
        alarms += made_alarms
        if language == languages[0]:  # the exposition page: read once whatever the languages
            read += pack_read
    return dashboards, alarms, read


def _expand_as(generate: GenerateSpec, path: Path, language: QueryLanguage) -> tuple[
        list[DashboardSpec], list[AlarmSpec], str]:
    """The pack's dashboards and alarms in ``language``, and the text of the file it was made from (if any)."""
    job = generate.job or ""
    dashboards: list[DashboardSpec] = []
    read = ""
    if generate.pack == "nodejs":
        dashboards = [templates.nodejs_dashboard(job, namespace=generate.namespace, name=generate.name,
                                                 period=generate.period, query_language=language)]
    elif generate.pack == "node_exporter":
        dashboards = [templates.node_exporter_dashboard(job, namespace=generate.namespace, name=generate.name,
                                                        period=generate.period,
                                                        query_language=language)]
    elif generate.pack == "exposition":
        from promwatch.exposition import parse

        source = path.parent / str(generate.exposition)
        read = _read_pack_file("exposition", source, f"the exposition pack reads {source}",
                               "a saved /metrics page there (relative to the spec file)")
        families = [(f.name, f.type) for f in parse(read) if f.samples]
        dashboards = templates.dashboard_for_families(job, families, namespace=generate.namespace,
                                                      name=generate.name, period=generate.period,
                                                      query_language=language)
    elif generate.pack == "insights":
        rules_path = path.parent / (generate.rules or DEFAULT_INSIGHTS_RULES)
        given = f"rules {generate.rules!r}" if generate.rules else f"no rules, so the default {DEFAULT_INSIGHTS_RULES}"
        read = _read_pack_file("rules", rules_path, f"the insights pack reads {rules_path} ({given})",
                               "the roll-up rules file there, or rules: PATH (relative to the spec file)")
        rules = load_yaml(read) or {}
        dashboards = [templates.insights_dashboard(rules, name=generate.name or "container-insights-rollups")]
    else:
        dashboards = [templates.health_dashboard(name=generate.name or "health",
                                                 dead_letter_queue=generate.dead_letter_queue)]
    alarms = []
    if job and generate.up_alarm:
        alarms.append(templates.up_alarm(job, namespace=generate.namespace, actions=generate.actions,
                                         query_language=language))
    if job and generate.max_series and language == "metrics":
        # on promwatch's own metrics (EMF, whatever the job's output): the budget holds its EMF series
        alarms.append(templates.series_budget_alarm(job, generate.max_series, actions=generate.actions))
    return dashboards, alarms, read


def _cross_checks(spec_dir: Path, dashboards: list[tuple[str, str, DashboardSpec]],
                  alarms: list[tuple[str, str, AlarmSpec]]) -> list[str]:
    problems: list[str] = []
    for kind, items in (("dashboard", dashboards), ("alarm", alarms)):
        seen: dict[str, str] = {}
        for file, where, item in items:
            if item.name in seen:
                problems.append(f"{spec_dir / file}: {where}.name: {kind} {item.name!r} is also declared in "
                                f"{spec_dir / seen[item.name]}; expected unique names")
            seen.setdefault(item.name, file)
    names = {a.name for _, _, a in alarms}
    graph: dict[str, list[str]] = {}
    for file, where, alarm in alarms:
        if alarm.rule is None:
            continue
        refs = composite_references(alarm.rule)
        if not refs:
            problems.append(f"{spec_dir / file}: {where}.rule: {alarm.rule!r} names no alarm; expected "
                            "ALARM(name), OK(name) or INSUFFICIENT_DATA(name) terms")
        for ref in refs:
            if not ref.startswith("arn:") and ref not in names:
                problems.append(f"{spec_dir / file}: {where}.rule: alarm {ref!r} is not in the spec; expected "
                                f"the name of an alarm of the spec or an alarm ARN")
        graph[alarm.name] = [r for r in refs if r in names]
    for start in graph:
        stack, seen_nodes = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, []):
                if nxt == start:
                    problems.append(f"composite alarm {start!r} depends on itself: {' -> '.join([*trail, nxt])}")
                    stack = []
                    break
                if nxt not in seen_nodes:
                    seen_nodes.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    for file, where, dashboard in dashboards:
        for index, widget in enumerate(dashboard.widgets):
            for ref in widget.alarms:
                if ref not in names:
                    problems.append(f"{spec_dir / file}: {where}.widgets[{index}].alarms: alarm {ref!r} is not in "
                                    "the spec; expected the name of an alarm of the spec")
    return problems


def load_spec(directory: str | Path) -> Spec:
    """Read and validate every spec file of ``directory``; expand the ``generate`` packs.

    Parameters
    ----------
    directory
        A directory of ``*.yaml`` / ``*.yml`` spec files (not recursive).

    Returns
    -------
    Spec
        Every dashboard and alarm, with the file each comes from and a digest of the files.

    Raises
    ------
    SpecError
        Listing every problem of every file, each as ``<file>: <key path>: <message>``; when it
        is raised nothing may be applied.
    """
    spec_dir = Path(directory)
    if not spec_dir.is_dir():
        raise SpecError([f"{spec_dir}: not a directory; expected a directory of spec files (*.yaml)"])
    problems: list[str] = []
    digest = hashlib.sha256()
    dashboards: list[tuple[str, str, DashboardSpec]] = []
    alarms: list[tuple[str, str, AlarmSpec]] = []
    for path in spec_files(spec_dir):
        try:
            text = read_text(path)
            digest.update(f"{path.name}\0{text}\0".encode())
            data = load_yaml(text)
        except OSError as exc:
            problems.append(f"{path}: cannot be read: {exc.strerror}")
            continue
        except DocumentError as exc:
            problems.append(f"{path}: {exc}")
            continue
        if data is None:
            continue
        try:
            spec_file = SpecFile.model_validate(data)
        except ValidationError as exc:
            problems += _problems(path, exc)
            continue
        dashboards += [(path.name, f"dashboards[{i}]", d) for i, d in enumerate(spec_file.dashboards)]
        alarms += [(path.name, f"alarms[{i}]", a) for i, a in enumerate(spec_file.alarms)]
        for index, generate in enumerate(spec_file.generate):
            try:
                made_dashboards, made_alarms, read = _expand(generate, path)
            except PackError as exc:
                problems.append(f"{path}: generate[{index}].{exc.key}: {exc}")
                continue
            except (OSError, ValidationError, ValueError, PromwatchError) as exc:
                problems.append(f"{path}: generate[{index}]: the {generate.pack} pack failed: {exc}")
                continue
            # What a pack reads is part of the spec: a changed rules file must trigger a deploy too.
            digest.update(f"{path.name}:generate[{index}]\0{read}\0".encode())
            where = f"generate[{index}]"
            dashboards += [(path.name, where, d) for d in made_dashboards]
            alarms += [(path.name, where, a) for a in made_alarms]
    problems += _cross_checks(spec_dir, dashboards, alarms)
    if problems:
        raise SpecError(problems)
    sources = {f"dashboard:{d.name}": file for file, _, d in dashboards}
    sources.update({f"alarm:{a.name}": file for file, _, a in alarms})
    return Spec(dashboards=tuple(d for _, _, d in dashboards), alarms=tuple(a for _, _, a in alarms),
                sources=sources, digest=digest.hexdigest())
