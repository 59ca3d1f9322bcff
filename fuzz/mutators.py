"""Structure-aware mutations for the harnesses whose inputs are JSON or YAML documents.

libFuzzer's byte mutations leave most such inputs unparseable, so they stop at the parser
(about 9 in 10 for the EMF validator and the insights events, more for YAML configs). Half of
the mutations here change the input as a document instead: a value replaced (by an awkward
one, or by another value of the same document), a key or item removed, a key or item added.
The result is written back in the same syntax, so it reaches the code behind the parser.
The other half are libFuzzer's own byte mutations, which keep exploring the syntax.
"""
from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

Mutator = Callable[[bytes, int, int], bytes]
"""``(input, max_size, seed) -> mutated input``, atheris' custom mutator signature."""

AWKWARD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 1.5, -0.0, 2**53 + 1, 2**64, 10**400, float("nan"), float("inf"),
    float("-inf"), 1e308, "", " ", "0", "x" * 300, "café", "\ud800", "a\x00b", ":x", "_aws", [], {},
    [1, 2], {"a": "b"}, "1m", "10MB", "Count", "+Inf",
)
"""Values that tend to break assumptions: wrong types, limits, non-finite, non-ASCII, empty."""


@dataclass(frozen=True)
class Codec:
    """How a harness' documents are read from and written to bytes."""

    loads: Callable[[bytes], Any]
    dumps: Callable[[Any], bytes]


JSON = Codec(json.loads, lambda document: json.dumps(document).encode())
YAML = Codec(yaml.safe_load, lambda document: yaml.safe_dump(document, sort_keys=False).encode("utf-8"))
_CODEC_ERRORS = (ValueError, TypeError, RecursionError, UnicodeError, yaml.YAMLError)


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of ``document``, depth first."""
    found: list[tuple[Any, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            stack.append(value)
    return found


def mutate_document(document: Any, rng: random.Random) -> Any:
    """``document`` with one structural change at a random place (the argument is not changed)."""
    root = [copy.deepcopy(document)]
    slots = _slots(root)
    container, key = rng.choice(slots)
    donors = [parent[k] for parent, k in slots]
    action = rng.randrange(4)
    if action == 0:  # an awkward value
        container[key] = rng.choice(AWKWARD_VALUES)
    elif action == 1:  # another value of the document, elsewhere
        container[key] = copy.deepcopy(rng.choice(donors))
    elif action == 2 and container is not root:  # drop the key or item
        del container[key]
    else:  # add a key (a name seen in the document, or an awkward one) or repeat an item
        target = container[key] if isinstance(container[key], dict | list) else container
        if isinstance(target, dict):
            names = [k for parent, k in slots if isinstance(k, str)] + ["", "x" * 300, "_aws"]
            target[rng.choice(names)] = copy.deepcopy(rng.choice([*AWKWARD_VALUES, *donors]))
        elif target is not root:
            target.insert(rng.randrange(len(target) + 1), copy.deepcopy(rng.choice([*AWKWARD_VALUES, *donors])))
    return root[0]


def structured(codec: Codec, prefix: int = 0) -> Mutator:
    """A custom mutator for inputs that are ``prefix`` framing bytes and then a document."""

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        import atheris  # only the engine calls mutators, and it runs under atheris

        rng = random.Random(seed)
        if rng.random() < 0.5:
            return bytes(atheris.Mutate(data, max_size))
        try:
            mutated = data[:prefix] + codec.dumps(mutate_document(codec.loads(data[prefix:]), rng))
        except _CODEC_ERRORS:  # not a document, or not one the syntax can write back: mutate bytes
            return bytes(atheris.Mutate(data, max_size))
        return mutated if len(mutated) <= max_size else bytes(atheris.Mutate(data, max_size))

    return mutate
