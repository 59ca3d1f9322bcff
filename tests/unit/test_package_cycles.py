"""No two packages of promwatch import each other, lazily or not (the insights function's
backfill lived in a package of its own that insights imported inside a function while it
imported insights at the top)."""
from __future__ import annotations

from pathlib import Path

from promwatch_tools.layercheck import imported_names

ROOT = Path(__file__).resolve().parents[2] / "layers" / "promwatch"
KNOWN_CYCLES: set[frozenset[str]] = set()
"""None left: discovery and the scrape domain both fetch through promwatch.httpclient, below both."""


def _package_of(name: str) -> str | None:
    """The first-level package (or module) of promwatch that ``name`` belongs to."""
    parts = name.split(".")
    if parts[0] != "promwatch" or len(parts) < 2:
        return None
    top = ROOT / "promwatch" / parts[1]
    return parts[1] if top.is_dir() or top.with_suffix(".py").is_file() else None


def package_imports() -> dict[tuple[str, str], set[str]]:
    """``{(importer, imported): {modules of the importer that do}}`` between first-level packages."""
    edges: dict[tuple[str, str], set[str]] = {}
    for path in (ROOT / "promwatch").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        source = _package_of(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for name in imported_names(path.read_text(), package=package):
            target = _package_of(name)
            if source and target and target != source:
                edges.setdefault((source, target), set()).add(module)
    return edges


def test_no_two_packages_import_each_other() -> None:
    # given every import between promwatch's packages, those inside functions included
    edges = package_imports()
    # when the pairs that import each other are listed
    cycles = {frozenset(pair) for pair in edges if pair[::-1] in edges}
    # then there are none but the known one
    unexpected = [sorted(pair) for pair in cycles - KNOWN_CYCLES]
    assert not unexpected, [f"{a} <-> {b}: {sorted(edges[(a, b)] | edges[(b, a)])}" for a, b in unexpected]


def test_insights_holds_its_backfill() -> None:
    # given the insights package
    edges = package_imports()
    # then no package of promwatch but insights serves its backfill
    assert not (ROOT / "promwatch" / "backfill").exists()
    assert not any("backfill" in pair for pair in edges)
