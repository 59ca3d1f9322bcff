"""``promwatch cost`` output: the JSON document and the tables (pure)."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from promwatch_tools.cost.estimate import (
    ADOT_SIDECAR_MEMORY_GB,
    ADOT_SIDECAR_VCPU,
    HOURS_PER_MONTH,
    USD_KEYS,
    FunctionShape,
    JobCost,
)
from promwatch_tools.cost.prices import CONFIRMED, REGION, SOURCES, TAKEN_ON, Prices


def as_json(costs: Sequence[JobCost], total: dict[str, float]) -> dict[str, Any]:
    """``{"jobs": [{"job", "metrics", "usd_per_month"}], "total_usd_per_month"}`` (USD, rounded to 4 decimal places)."""
    return {
        "jobs": [{"job": c.job, "metrics": c.metrics, "usd_per_month": {k: round(c.usd[k], 4) for k in USD_KEYS}}
                 for c in costs],
        "total_usd_per_month": {k: round(total[k], 4) for k in USD_KEYS},
    }


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
            + " |" for r in rows]
    return out


def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def as_table(costs: Sequence[JobCost], total: dict[str, float], prices: Prices, function: FunctionShape,
             problems: Sequence[str]) -> str:
    """The usage and USD tables, the three paths per job, and the prices with their sources."""
    lines = [f"Per month (730 h), {REGION} list prices taken {TAKEN_ON}; GB = 10^9 bytes; free tiers not subtracted.",
             "", "Usage per month:"]
    lines += _table(
        ["job", "targets", "scrape_interval s", "scraped every s", "metrics", "EMF GB", "PutLogEvents", "OTLP GB billed (raw / gzip)",
         "invocations", "est. s/cycle", "GB-s", "DynamoDB calls (WRU / RRU)", "SQS requests"],
        [[c.job, str(c.targets), _n(c.interval_seconds), _n(c.scraped_every_seconds), str(c.metrics), _n(c.emf_gb), _n(c.put_log_events),
          f"{_n(c.otlp_billed_gb)} ({_n(c.otlp_raw_gb)} / {_n(c.otlp_gzip_gb)})", _n(c.invocations),
          f"{c.seconds_per_cycle:.3f}", _n(c.gb_seconds),
          f"{_n(c.dynamodb_calls)} ({_n(c.write_units)} / {_n(c.read_units)})",
          _n(c.sqs_requests)] for c in costs],
    )
    lines += ["", f"Priced at the scrape function's schedule, {function.schedule} (template.yaml ScheduleExpression): "
              "each scheduled invocation scrapes every target once, whatever the job's scrape_interval (a 15 s job "
              "is scraped, and priced, once a minute)."]
    lines += ["", "USD per month:"]
    rows = [[c.job, _usd(c.emf_metrics_usd), _usd(c.emf_logs_usd), *(_usd(c.usd[k]) for k in USD_KEYS)] for c in costs]
    rows.append(["total", _usd(sum(c.emf_metrics_usd for c in costs)), _usd(sum(c.emf_logs_usd for c in costs)),
                 *(_usd(total[k]) for k in USD_KEYS)])
    lines += _table(["job", "emf: metrics", "emf: logs", *USD_KEYS], rows)
    lines += ["", "The paths, USD per month (function = lambda + dynamodb + sqs):"]
    path_rows = []
    for c in [*costs, None]:
        usd = c.usd if c is not None else total
        function_usd = usd["lambda"] + usd["dynamodb"] + usd["sqs"]
        path_rows.append([c.job if c is not None else "total", _usd(usd["emf"] + function_usd),
                          _usd(usd["otlp"] + function_usd), _usd(usd["emf"] + usd["adot_sidecar"])])
    lines += _table(["job", "promwatch EMF", "promwatch OTLP", "ADOT sidecar + awsemf"], path_rows)
    lines += [
        "",
        f"Lambda: {function.memory_mb} MB {function.architecture} (template.yaml); duration estimated from the CPU "
        "this run's EMF cycle took, scaled to the function's CPU share, plus 3.9 ms per target of DynamoDB calls.",
        f"ADOT sidecar: {ADOT_SIDECAR_VCPU * 1000:g}m CPU + {ADOT_SIDECAR_MEMORY_GB * 1024:g}Mi per pod, one pod "
        f"per target, {HOURS_PER_MONTH:g} h, at sidecar_vcpu_hour / sidecar_gb_hour.",
        "",
        "Prices (USD; override with --prices FILE):",
    ]
    defaults = Prices()
    for field in dataclasses.fields(Prices):
        value = getattr(prices, field.name)
        if value != getattr(defaults, field.name):
            mark = "  <- from --prices"
        else:
            mark = "" if CONFIRMED[field.name] else "  <- NOT CONFIRMED"
        lines.append(f"  {field.name} = {value:.10g}{mark}")
        lines.append(f"      {SOURCES[field.name]}")
    if problems:
        lines += ["", "Targets that did not answer (their metrics are missing from this estimate):"]
        lines += [f"  {p}" for p in problems]
    return "\n".join(lines) + "\n"
