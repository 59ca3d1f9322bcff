"""Known crash classes whose fixes are on other branches: allowed, narrowly, until they merge.

Each allowance matches one exception type (and message text) raised by one function of one
promwatch module (the innermost promwatch frame of the traceback), in one harness, and says
where its fix comes from. Anything else still fails the harness. Each carries a reproducer,
and a unit test checks that it still crashes without the allowance: once the fix is merged
that test fails, saying to delete the entry.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class Allowance:
    """One known crash: ``exception`` raised while ``module``'s ``function`` was running."""

    harness: str
    exception: type[BaseException]
    module: str
    """The module's name, e.g. ``promwatch.scrape.loader``."""
    function: str
    message: str
    """Text the error's message must contain."""
    status: str
    """Where the fix comes from (a branch), or that it is only reported so far."""
    reproducer: bytes
    """A harness input that raises it."""


ALLOWANCES: tuple[Allowance, ...] = (
    # A config file or S3 object that is not UTF-8 escapes as UnicodeDecodeError instead of
    # ConfigError. The config harness then loads the text decoded with replacement
    # characters, so the YAML still gets fuzzed.
    Allowance("config", UnicodeDecodeError, "promwatch.scrape.loader", "_read_s3", "can't decode byte",
              "reported for branch config (loader.py is changed there)", b"\xff"),
    # describe_errors() drops the parts of an error's key path that look like pydantic's union
    # tags (a "[" or a type name), user keys included: an unknown top-level key with a "["
    # leaves an empty path and IndexError (keys "str", "x[" deeper down give wrong messages).
    Allowance("config", IndexError, "promwatch.scrape.loader", "describe_errors", "list index out of range",
              "reported for branch config (loader.py is changed there)", b"a[b: 1"),
    # Deep nesting (the brief's known class): PyYAML composes nested collections recursively.
    Allowance("config", RecursionError, "promwatch.scrape.loader", "parse_config", "maximum recursion depth exceeded",
              "fixed on branch config", b"[" * 2000),
    # A YAML float duration skips the duration syntax check, so .nan, .inf (and negative
    # numbers) validate as scrape_interval / scrape_timeout; building the job's targets then
    # fails in format_duration. The fix is a finite, non-negative Duration in config.py.
    Allowance("config", ValueError, "promwatch.scrape.units", "format_duration", "cannot convert float NaN to integer",
              "reported for branch config (config.py is changed there)",
              b'scrape_configs: [{job_name: a, scrape_interval: .nan, static_configs: [{targets: ["h:1"]}]}]'),
    Allowance("config", OverflowError, "promwatch.scrape.units", "format_duration",
              "cannot convert float infinity to integer", "reported for branch config (config.py is changed there)",
              b'scrape_configs: [{job_name: a, scrape_interval: .inf, static_configs: [{targets: ["h:1"]}]}]'),
    # problems() serializes the document to measure it before checking its values, so a
    # document holding NaN or an infinity raises ValueError from the JSON encoder instead of
    # being reported as "not a finite number" ...
    Allowance("emf_validate", ValueError, "promwatch.emf.writer", "serialize",
              "Out of range float values are not JSON compliant",
              "reported for branch dims (validate.py is changed there)", b'{"_aws": {}, "m": NaN}'),
    # ... an integer beyond the float range (JSON 1e400 written out) raises OverflowError from
    # the finiteness check instead of being reported ...
    Allowance("emf_validate", OverflowError, "promwatch.emf.validate", "_finite_number",
              "int too large to convert to float", "reported for branch dims (validate.py is changed there)",
              b'{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "a", "Dimensions": [], '
              b'"Metrics": [{"Name": "m"}]}]}, "m": 1' + b"0" * 400 + b"}"),
    # ... and one holding a lone surrogate (JSON "\ud800") raises UnicodeEncodeError from the
    # same measurement.
    Allowance("emf_validate", UnicodeEncodeError, "promwatch.emf.validate", "problems", "surrogates not allowed",
              "reported for branch dims (validate.py is changed there)", b'{"_aws": {}, "\\ud800": 1}'),
)


def _innermost_promwatch_frame(error: BaseException) -> tuple[str, str] | None:
    """(module name, function name) of the deepest frame of promwatch's code in the traceback."""
    frames = [
        (str(frame.f_globals.get("__name__", "")), frame.f_code.co_name)
        for frame, _ in traceback.walk_tb(error.__traceback__)
    ]
    ours = [frame for frame in frames if frame[0] == "promwatch" or frame[0].startswith("promwatch.")]
    return ours[-1] if ours else None


def allowed(error: BaseException, harness: str) -> Allowance | None:
    """The allowance of ``harness`` that covers ``error``, or None (the error is a new crash)."""
    frame = _innermost_promwatch_frame(error)
    for allowance in ALLOWANCES:
        if (allowance.harness == harness and isinstance(error, allowance.exception)
                and frame == (allowance.module, allowance.function) and allowance.message in str(error)):
            return allowance
    return None
