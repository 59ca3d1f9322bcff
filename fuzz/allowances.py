"""Known crash classes whose fixes are on other branches: allowed, narrowly, until they merge.

Each allowance matches one exception type (and message text) raised by one function of one
promwatch module (the innermost promwatch frame of the traceback), in one harness, and says
where its fix is to come from (a module other work owns). Anything else still fails the harness. Each carries a reproducer,
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
    # describe_errors() drops the parts of an error's key path that look like pydantic's union
    # tags (a "[" or a type name), user keys included: an unknown top-level key with a "["
    # leaves an empty path and IndexError (keys "str", "x[" deeper down give wrong messages).
    Allowance("config", IndexError, "promwatch.scrape.loader", "describe_errors", "list index out of range",
              "open on main after the config branch merged: reported (loader.py)", b"a[b: 1"),
    # problems() serializes the document to measure it before checking its values, so a
    # document holding NaN or an infinity raises ValueError from the JSON encoder instead of
    # being reported as "not a finite number" ...
    Allowance("emf_validate", ValueError, "promwatch.emf.writer", "serialize",
              "Out of range float values are not JSON compliant",
              "open on main after the dims branch merged: reported (validate.py)", b'{"_aws": {}, "m": NaN}'),
    # ... an integer beyond the float range (JSON 1e400 written out) raises OverflowError from
    # the finiteness check instead of being reported ...
    Allowance("emf_validate", OverflowError, "promwatch.emf.validate", "_finite_number",
              "int too large to convert to float", "open on main after the dims branch merged: reported (validate.py)",
              b'{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "a", "Dimensions": [], '
              b'"Metrics": [{"Name": "m"}]}]}, "m": 1' + b"0" * 400 + b"}"),
    # ... and one holding a lone surrogate (JSON "\ud800") raises UnicodeEncodeError from the
    # same measurement.
    Allowance("emf_validate", UnicodeEncodeError, "promwatch.emf.validate", "problems", "surrogates not allowed",
              "open on main after the dims branch merged: reported (validate.py)", b'{"_aws": {}, "\\ud800": 1}'),
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
