"""Reading YAML and JSON that people write, bounded: one home for the rule every loader follows.

A document a user supplies (scrape config, roll-up rules, dashboard spec, event or state file)
must fail with a message, not a traceback, a hang or an exhausted Lambda: too large, nested too
deeply, an alias bomb ("billion laughs": a few lines of anchors that expand to billions of
nodes), a recursive alias, a duplicate key (taken silently by PyYAML; Prometheus refuses it), a
number Python cannot convert, a date that does not exist, text that is not UTF-8. Each becomes a
:class:`DocumentError` whose message gives the line or key path and what was expected; callers
prefix where the document came from and re-raise it as their domain's error.

YAML is read with libyaml when PyYAML has it (as its wheels do), else in pure Python.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.error import MarkedYAMLError

from promwatch.errors import PromwatchError

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_CHARS",
    "MAX_EXPANDED_NODES",
    "MAX_SCALAR_CHARS",
    "DocumentError",
    "LimitedLoader",
    "decode_text",
    "load_json",
    "load_yaml",
    "read_text",
]

MAX_DOCUMENT_CHARS = 4 * 1024 * 1024
"""The largest document read (characters, or bytes before decoding): far above any real config,
small enough to parse in seconds."""
MAX_DEPTH = 64
"""Nesting levels a YAML document may have (counting through aliases); configs need about ten."""
MAX_EXPANDED_NODES = 1_000_000
"""Nodes a YAML document may hold once its aliases are expanded, as a consumer walking it sees them."""
MAX_SCALAR_CHARS = 128 * 1024
"""The longest single YAML value (the longest a spec allows, markdown, is 100 000 characters)."""

_INT_TAG = "tag:yaml.org,2002:int"
_MAX_INT_CHARS = 4300  # Python's default int conversion limit (sys.get_int_max_str_digits)
_SURROGATE = re.compile("[\ud800-\udfff]")


class DocumentError(PromwatchError):
    """A YAML or JSON document cannot be read; the message says where (line or key path) and why."""


def read_text(path: str | Path, *, limit: int = MAX_DOCUMENT_CHARS) -> str:
    """The UTF-8 text of a file, reading no more than ``limit`` bytes of it.

    Raises
    ------
    OSError
        When the file cannot be read (callers name the file in their own words).
    DocumentError
        When it is larger than ``limit`` or not UTF-8.
    """
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    return decode_text(data, limit=limit)


def decode_text(data: bytes | str, *, limit: int = MAX_DOCUMENT_CHARS) -> str:
    """``data`` as text, refused when longer than ``limit`` or not UTF-8.

    Raises
    ------
    DocumentError
        Saying which.
    """
    if len(data) > limit:
        unit = "characters" if isinstance(data, str) else "bytes"
        raise DocumentError(f"the document is larger than {limit:,} {unit}; expected at most {limit:,}")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"byte {exc.start} is not UTF-8 ({exc.reason}); expected UTF-8 text") from None


def load_yaml(text: str, *, loader: type[LimitedLoader] | None = None) -> Any:
    """The data of one YAML document, read with PyYAML's safe schema within the limits above.

    Anchors and aliases work (``<<: *defaults`` included) as long as the expanded document stays
    within :data:`MAX_EXPANDED_NODES` and :data:`MAX_DEPTH`.

    Parameters
    ----------
    text
        The document.
    loader
        A subclass of :data:`LimitedLoader` with constructors of its own (CloudFormation's short
        tags); the safe loader when None.

    Raises
    ------
    DocumentError
        When the text is not YAML or breaks a limit; the message starts with the line (and names
        the key path where there is one).
    """
    text = decode_text(text)
    parser: Any = None
    try:
        parser = (loader or _Loader)(text)  # the pure-Python reader checks the characters here
        node = parser.get_single_node()
        if node is None:
            return None
        _check_tree(node)
        return parser.construct_document(node)
    except yaml.YAMLError as exc:
        raise DocumentError(_describe(exc)) from None
    except UnicodeEncodeError:
        raise DocumentError("the text holds a lone surrogate code point; expected UTF-8 text") from None
    finally:
        if parser is not None:
            parser.dispose()


def load_json(text: str | bytes) -> Any:
    """The data of a JSON document (Python's ``json`` semantics, ``NaN`` included).

    Raises
    ------
    DocumentError
        When it is not JSON, nests deeper than Python can read, or holds an integer too long to
        convert; the message gives the position where ``json`` reports one.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise DocumentError("not valid JSON: nested too deeply to read; expected a shallower document") from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"byte {exc.start} is not UTF-8 ({exc.reason}); expected UTF-8 text") from None
    except ValueError as exc:  # an integer beyond Python's int conversion limit
        raise DocumentError(f"not valid JSON: {exc}") from None


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "maximum nesting depth" in problem:  # libyaml's own cap (1000 levels)
        return f"{where}nested deeper than {MAX_DEPTH} levels; expected at most {MAX_DEPTH}"
    if isinstance(exc, _LimitError):
        return f"{where}{problem}"
    context = getattr(exc, "context", None)
    if context:
        problem = f"{context}{' ' if problem.startswith('but ') else ': '}{problem}"
    return f"{where}not valid YAML: {problem}"


class _LimitError(MarkedYAMLError):
    """A limit of this module (or a value PyYAML cannot convert), raised as a YAML error so it is
    reported like one, with its line."""


class _Limits:
    """What the safe loaders add: a nesting cap in the pure-Python composer (libyaml stops at 1000
    levels itself) and conversion errors reported at their node, never echoing the value (it may
    be a credential)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _LimitError(None, None, f"nested deeper than {MAX_DEPTH} levels; expected at most {MAX_DEPTH}",
                                  mark)
            node: yaml.Node | None = super().compose_node(parent, index)  # type: ignore[misc]
            return node
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[misc]
        except (ValueError, OverflowError, TypeError) as exc:
            # ``12345...`` past Python's int conversion limit, ``2020-13-45``, ``!!int abc``.
            kind = str(node.tag).rpartition(":")[2]
            value = node.value if isinstance(node, yaml.ScalarNode) else ""
            reason = f": {exc}" if isinstance(exc, ValueError) and value not in str(exc) else ""
            raise _LimitError(None, None, f"the value cannot be read as {kind}{reason}", node.start_mark) from None


class _PyLoader(_Limits, yaml.SafeLoader):
    """Pure-Python parsing."""


if TYPE_CHECKING:
    _Parser = yaml.SafeLoader
else:  # libyaml parses about three times faster
    _Parser = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class LimitedLoader(_Limits, _Parser):
    """The loader :func:`load_yaml` uses, on libyaml when PyYAML has it: subclass it to add
    constructors (its limits stay)."""


_Loader: type[_PyLoader] | type[LimitedLoader] = LimitedLoader


def _check_tree(root: yaml.Node) -> None:
    """Walk the composed nodes once (shared ones once), checking the limits on the expanded tree.

    Iterative, as the nesting is not yet known to be small; paths are only worked out for a message.

    Raises
    ------
    _LimitError
        At the first node that breaks one, naming its line and key path.
    """
    done: dict[int, tuple[int, int]] = {}  # id(collection node) -> (expanded size, depth)
    open_ids: set[int] = set()
    stack: list[list[Any]] = []  # frames [node, children, index of the next child]
    if isinstance(root, yaml.ScalarNode):
        _check_scalar(root, stack)
        return
    _push(root, stack, open_ids)
    while stack:
        frame = stack[-1]
        node, kids, index = frame
        if index < len(kids):
            frame[2] = index + 1
            child = kids[index]
            if isinstance(child, yaml.ScalarNode):
                _check_scalar(child, stack)
            elif id(child) in open_ids:
                raise _fail(stack, child, "an alias refers to a node that contains it; expected a tree, not a cycle",
                            at_child=True)
            elif id(child) not in done:
                _push(child, stack, open_ids)
            continue
        size, depth = 1, 1
        for child in kids:
            child_size, child_depth = (1, 1) if isinstance(child, yaml.ScalarNode) else done[id(child)]
            size += child_size
            depth = max(depth, child_depth + 1)
        if size > MAX_EXPANDED_NODES:
            raise _fail(stack, node, f"holds more than {MAX_EXPANDED_NODES:,} values once its aliases are expanded; "
                                     f"expected at most {MAX_EXPANDED_NODES:,}")
        if depth > MAX_DEPTH:
            raise _fail(stack, node, f"nested deeper than {MAX_DEPTH} levels; expected at most {MAX_DEPTH}")
        done[id(node)] = (size, depth)
        stack.pop()
        open_ids.discard(id(node))


def _push(node: yaml.Node, stack: list[list[Any]], open_ids: set[int]) -> None:
    kids: list[yaml.Node]
    if isinstance(node, yaml.MappingNode):
        kids = [part for pair in node.value for part in pair]
        stack.append([node, kids, 0])
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if (key.tag, key.value) in seen:
                    raise _fail(stack, key, f"duplicate key {_shorten(key.value)!r}; expected each key once in a mapping")
                seen.add((key.tag, key.value))
    else:
        stack.append([node, node.value, 0])
    open_ids.add(id(node))


def _check_scalar(node: yaml.ScalarNode, stack: list[list[Any]]) -> None:
    value = node.value
    if len(value) > MAX_SCALAR_CHARS:
        raise _fail(stack, node, f"a value of {len(value):,} characters; expected at most {MAX_SCALAR_CHARS:,}",
                    at_child=True)
    if node.tag == _INT_TAG and len(value) > _MAX_INT_CHARS:
        raise _fail(stack, node, f"an integer of {len(value):,} characters; expected at most {_MAX_INT_CHARS:,}",
                    at_child=True)
    if not value.isascii() and _SURROGATE.search(value):
        raise _fail(stack, node, "the value holds a lone surrogate (\\uD800-\\uDFFF); expected UTF-8 text",
                    at_child=True)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def _fail(stack: list[list[Any]], node: yaml.Node, message: str, *, at_child: bool = False) -> _LimitError:
    """The error at ``node``: the top frame's node, or (``at_child``) the child it is visiting."""
    path = ""
    frames = stack if at_child else stack[:-1]
    for parent, _, index in frames:
        position = index - 1
        if isinstance(parent, yaml.MappingNode):
            key = parent.value[position // 2][0]
            name = _shorten(str(key.value)) if isinstance(key, yaml.ScalarNode) else "?"
            path += f".{name}" if path else name
            if position % 2 == 0:
                path += " (key)"
        else:
            path += f"[{position}]"
    where = f"{path}: " if path else ""
    return _LimitError(None, None, f"{where}{message}", node.start_mark)
