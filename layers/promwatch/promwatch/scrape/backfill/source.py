"""Raw samples and metric types from a Prometheus server's HTTP API.

Raw samples, not evaluated ones: an instant query of a *range selector* (``/api/v1/query`` with
``query=sel[<range>]``) answers a matrix of the samples as stored, each with its own
timestamp, whereas ``/api/v1/query_range`` evaluates the expression at each step (a
counter's reset or a missed scrape would be smoothed away). Types come from
``/api/v1/metadata``, which knows only what the server's current targets expose; history
imported from elsewhere (``promtool tsdb create-blocks-from``) or from targets gone since has
none, and is typed by its names (:mod:`promwatch.scrape.backfill.series`).

The parsing is pure (:func:`parse_matrix`, :func:`parse_metadata`, :func:`api_error`, which reads
what Prometheus says was wrong from an error answer's JSON body); :class:`PrometheusAPI` does
the HTTP through :func:`promwatch.httpclient.fetch`, so a backfill reaches only what the target
guard allows (no link-local or metadata addresses; no loopback inside Lambda).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode

from promwatch.httpclient import (
    BodyTooLargeError,
    ConnectionPool,
    FetchPolicy,
    FetchRequest,
    FetchResponse,
    HttpStatusError,
    fetch,
)
from promwatch.safeload import DocumentError, load_json
from promwatch.scrape.errors import PrometheusBackfillError

__all__ = ["PrometheusAPI", "SampleSource", "Series", "api_error", "parse_matrix", "parse_metadata"]

DEFAULT_TIMEOUT_SECONDS = 60.0
ERROR_BODY_BYTES = 4096
"""How much of an error answer is read: Prometheus says what was wrong in its JSON body
(``{"status": "error", "errorType": "bad_data", "error": "..."}``), not in the status line."""


class Series(NamedTuple):
    """One series' raw samples: its labels (``__name__`` included) and ``(epoch ms, value)`` in
    time order; ``native`` holds the times of its native-histogram samples, which are not
    translated (the live path reads classic histograms from the text formats only)."""

    labels: Mapping[str, str]
    samples: list[tuple[int, float]]
    native: tuple[int, ...] = ()


class SampleSource(Protocol):
    """Where a backfill reads (a Prometheus server, or a test's stand-in)."""

    def metadata(self) -> dict[str, str]:
        """Metric family name -> Prometheus type, for the families the server knows one of."""
        ...

    def samples(self, selector: str, at_ms: int, range_ms: int) -> list[Series]:
        """The raw samples of the series ``selector`` matches in ``[at_ms - range_ms, at_ms]``."""
        ...


def _body(text: str, what: str) -> Any:
    try:
        document = load_json(text)
    except DocumentError as exc:
        raise PrometheusBackfillError(f"{what}: the answer is not JSON ({exc}); expected the Prometheus HTTP API") from None
    if not isinstance(document, dict) or document.get("status") != "success":
        detail = document.get("error") if isinstance(document, dict) else None
        raise PrometheusBackfillError(f"{what}: status is not success ({detail or str(document)[:200]})")
    return document.get("data")


def api_error(body: str | None) -> str | None:
    """``errorType: error`` of a Prometheus API error answer (None when ``body`` is not one)."""
    try:
        document = load_json(body) if body else None
    except DocumentError:
        return None
    if not isinstance(document, dict) or document.get("status") != "error" or not isinstance(document.get("error"), str):
        return None
    kind = document.get("errorType")
    return f"{kind}: {document['error']}" if isinstance(kind, str) else document["error"]


def parse_matrix(text: str, what: str = "query") -> list[Series]:
    """The series of an ``/api/v1/query`` answer whose result is a matrix.

    Raises
    ------
    PrometheusBackfillError
        When the answer is not a successful matrix (say, the selector was a scalar expression).
    """
    data = _body(text, what)
    if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise PrometheusBackfillError(f"{what}: result type {kind!r}; expected a matrix (is the selector a plain series selector?)")
    out: list[Series] = []
    for entry in data["result"]:
        try:
            labels = {str(k): str(v) for k, v in entry["metric"].items()}
            samples = [(round(float(t) * 1000), float(v)) for t, v in entry.get("values") or ()]
            native = tuple(round(float(point[0]) * 1000) for point in entry.get("histograms") or ())
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            raise PrometheusBackfillError(f"{what}: a series is not {{metric, values: [[time, \"value\"], ...]}}") from None
        out.append(Series(labels, samples, native))
    return out


def parse_metadata(text: str) -> dict[str, str]:
    """``/api/v1/metadata``: family name -> type (the first entry of each family).

    Raises
    ------
    PrometheusBackfillError
        When the answer is not a successful metadata answer.
    """
    data = _body(text, "metadata")
    if not isinstance(data, dict):
        raise PrometheusBackfillError(f"metadata: data is {type(data).__name__}; expected an object of families")
    types: dict[str, str] = {}
    for name, entries in data.items():
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            kind = entries[0].get("type")
            if isinstance(kind, str):
                types[str(name)] = kind
    return types


Fetcher = Callable[[FetchRequest], FetchResponse]


class PrometheusAPI:
    """A Prometheus server (or anything speaking its HTTP API: Thanos, Mimir...) at ``url``.

    Parameters
    ----------
    url
        The server's base URL (``http://prometheus:9090``; a path prefix is kept).
    timeout
        Seconds each request may take.
    fetcher
        ``FetchRequest -> FetchResponse`` (default: the guarded client under this process' policy,
        through ``pool``).
    pool
        Where the default fetcher's connections come from (the scrape runtime passes its own;
        None: a pool of this source's own).
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, fetcher: Fetcher | None = None,
                 pool: ConnectionPool | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        if fetcher is None:
            policy, own = FetchPolicy.from_env(), ConnectionPool() if pool is None else pool
            fetcher = lambda request: fetch(request, pool=own, policy=policy)  # noqa: E731
        self._fetch = fetcher

    def _get(self, path: str, params: Mapping[str, str], what: str) -> str:
        url = f"{self.url}{path}?{urlencode(params)}" if params else f"{self.url}{path}"
        request = FetchRequest(url=url, timeout=self.timeout, accept="application/json", error_body_limit=ERROR_BODY_BYTES)
        try:
            return self._fetch(request).text
        except BodyTooLargeError as exc:
            raise PrometheusBackfillError(f"{exc}; expected a smaller answer: use shorter chunks") from None
        except HttpStatusError as exc:
            reason = api_error(exc.body)
            if reason is None:
                raise
            raise PrometheusBackfillError(f"{what}: the server answered HTTP {exc.status}: {reason}") from None

    def metadata(self) -> dict[str, str]:
        """Family name -> type, as the server's targets last exposed them."""
        return parse_metadata(self._get("/api/v1/metadata", {}, "metadata"))

    def samples(self, selector: str, at_ms: int, range_ms: int) -> list[Series]:
        """The raw samples ``selector`` matches in ``[at_ms - range_ms, at_ms]`` (one range-selector query)."""
        query = f"{selector}[{range_ms}ms]"
        what = f"query {query!r}"
        return parse_matrix(self._get("/api/v1/query", {"query": query, "time": f"{at_ms / 1000:.3f}"}, what), what)
