"""What every harness is made of, and the seed files they share.

A harness is a pure entry function ``test_one_input(data: bytes) -> None`` that raises
nothing for any input except a bug (an exception other than the target's documented errors,
or a broken property, raised as :class:`PropertyBroken`), plus its seed inputs and the
libFuzzer settings that suit it. Nothing here imports atheris or promwatch: the engine
imports the harness modules under coverage instrumentation, and the unit tests without it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository (seed corpora are its real inputs)."""


class PropertyBroken(AssertionError):
    """A harness' property does not hold for an input (not an error of the code under test)."""


def check(condition: bool, what: str) -> None:
    """Raise :class:`PropertyBroken` saying ``what`` when ``condition`` is false.

    Harnesses use this rather than ``assert``, which ``python -O`` would strip.
    """
    if not condition:
        raise PropertyBroken(what)


@dataclass(frozen=True)
class Harness:
    """One fuzz target.

    Attributes
    ----------
    name
        The module name under ``fuzz/`` and the name the runner prints.
    test_one_input
        The entry function: any bytes in, nothing out; raises only on a bug.
    seeds
        The seed corpus: real inputs from the repository, already in the harness' input framing.
    share
        The harness' part of the inputs of a run (relative to the other harnesses'): more for
        the targets with more to explore.
    max_len
        Longest input libFuzzer makes (seeds longer than this are cut).
    dictionary
        Tokens libFuzzer splices into inputs (keywords of the input language).
    mutator
        A custom mutator (:mod:`fuzz.mutators`) for inputs that are documents; None for
        libFuzzer's byte mutations alone.
    """

    name: str
    test_one_input: Callable[[bytes], None]
    seeds: Callable[[], list[bytes]]
    share: int = 1
    max_len: int = 4096
    dictionary: tuple[str, ...] = field(default_factory=tuple)
    mutator: Callable[[bytes, int, int], bytes] | None = None


def repo_files(*patterns: str) -> list[Path]:
    """Files of the repository matching the glob ``patterns`` (sorted, each pattern in turn)."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(ROOT.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"seed pattern {pattern!r} matches no file under {ROOT}")
        found.extend(matches)
    return found


def chunks(text: bytes, size: int) -> Iterable[bytes]:
    """``text`` cut at line ends into pieces of at most ``size`` bytes (a line longer than
    ``size`` becomes a piece of its own)."""
    piece = b""
    for line in text.splitlines(keepends=True):
        if piece and len(piece) + len(line) > size:
            yield piece
            piece = b""
        piece += line
    if piece:
        yield piece
