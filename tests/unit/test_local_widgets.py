"""Dashboard widgets -> queries, default dashboards, and the SVG preview (pure)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from promwatch_tools.local.dashboards import default_dashboards
from promwatch_tools.local.extract import ExtractedDatum
from promwatch_tools.local.preview import DashboardView, WidgetView, render_page, svg_chart
from promwatch_tools.local.query import Series, namespace_windows, percentile_of
from promwatch_tools.local.widgets import MetricQuery, dashboard_widgets, parse_search, widget_spec


def _datum(namespace: str, timestamp_ms: int) -> ExtractedDatum:
    return ExtractedDatum(namespace, "m", (), timestamp_ms, "None", 60, (1.0,), (1.0,), 1.0, 1.0, 1.0, 1.0)


def test_metric_rows_expand_the_dot_shorthand_and_take_row_options() -> None:
    # given a widget with two rows, the second repeating namespace and name with "."
    widget = {"type": "metric", "properties": {
        "title": "Latency", "stat": "p99", "period": 60,
        "metrics": [
            ["prod/task-service", "http_request_duration_seconds", "route", "/tasks"],
            [".", ".", "route", "/tasks/:id", {"stat": "p50", "label": "by id"}],
        ]}}
    # when read
    spec = widget_spec(widget)
    # then both rows are full queries, the second with its own stat and label
    assert spec.title == "Latency" and not spec.notes
    assert spec.queries == [
        MetricQuery("prod/task-service", "http_request_duration_seconds", (("route", "/tasks"),), "p99", 60),
        MetricQuery("prod/task-service", "http_request_duration_seconds", (("route", "/tasks/:id"),), "p50", 60,
                    "by id"),
    ]


def test_search_with_a_schema_matches_exactly_its_keys() -> None:
    # given a SEARCH with a quoted namespace schema, a metric name and a dimension filter
    query = parse_search('SEARCH(\'{"prod/task-service",route,code} MetricName="http_request_duration_seconds" '
                         'code="200"\', \'p90\', 300)')
    # then it names the namespace, the metric, the statistic and period
    assert query is not None
    assert (query.namespace, query.name, query.stat, query.period) == (
        "prod/task-service", "http_request_duration_seconds", "p90", 300)
    # and it matches metrics with exactly the schema's keys and the filtered value
    assert query.matches("prod/task-service", "http_request_duration_seconds", [("route", "/x"), ("code", "200")])
    assert not query.matches("prod/task-service", "http_request_duration_seconds", [("route", "/x"), ("code", "404")])
    assert not query.matches("prod/task-service", "http_request_duration_seconds",
                             [("route", "/x"), ("code", "200"), ("job", "j")])
    assert not query.concrete


def test_other_expressions_and_widget_kinds_are_named_not_plotted() -> None:
    # given a body with metric math, an alarm widget and a text widget
    body = {"widgets": [
        {"type": "metric", "properties": {"metrics": [[{"expression": "m1 * 2", "id": "e1"}]]}},
        {"type": "alarm", "properties": {"title": "Alarms", "alarms": []}},
        {"type": "text", "properties": {"markdown": "# hi"}},
    ]}
    # when read
    math, alarm, text = dashboard_widgets(body)
    # then each says what the preview does with it
    assert math.queries == [] and "m1 * 2" in math.notes[0]
    assert alarm.notes == ["alarm widgets are not previewed"]
    assert text.markdown == "# hi"
    assert parse_search("m1 * 2") is None


def test_percentile_statistics_are_recognised() -> None:
    # given p99, p99.9, Average and p101, when read as percentiles, then only the first two are, as numbers
    assert (percentile_of("p99"), percentile_of("p99.9"), percentile_of("Average"), percentile_of("p101")) == (
        99.0, 99.9, None, None)


def test_default_dashboards_draw_distributions_as_percentiles_and_counters_as_sums() -> None:
    # given a distribution, a counter and a gauge that landed in one namespace
    metrics = [("ns", "latency", ("job", "route")), ("ns", "requests_total", ("job",)), ("ns", "heap", ("job", "space"))]
    # when dashboards are made
    (body,) = default_dashboards(metrics, distributions=[("ns", "latency")]).values()
    widgets = dashboard_widgets(body)
    # then the distribution comes first with p50 and p99, then the gauge as Average, the counter as Sum
    assert [w.title for w in widgets] == ["latency by job, route", "heap by job, space", "requests_total by job"]
    assert [q.stat for q in widgets[0].queries] == ["p50", "p99"]
    assert [q.stat for q in widgets[1].queries + widgets[2].queries] == ["Average", "Sum"]
    assert all(q.namespace == "ns" and not q.concrete for w in widgets for q in w.queries)


def test_windows_fit_each_namespaces_span() -> None:
    # given 30 s of scrape data and 10 minutes of backdated roll-ups
    datums = [_datum(namespace="scrape", timestamp_ms=1_000_000 + i * 5000) for i in range(7)]
    datums += [_datum(namespace="rollups", timestamp_ms=1_000_000 + i * 60_000) for i in range(11)]
    # when windows are chosen with a 5 s minimum period
    windows = namespace_windows(datums, min_period_s=5, max_points=40)
    # then the scrape data keeps 5 s periods and the roll-ups get a longer one; both cover their data
    assert windows["scrape"].period_s == 5 and windows["rollups"].period_s == 15
    for namespace, window in windows.items():
        stamps = [d.timestamp_ms / 1000 for d in datums if d.namespace == namespace]
        assert window.start_s <= min(stamps) and max(stamps) < window.end_s


def test_svg_chart_draws_lines_dots_and_says_no_data() -> None:
    # given a two-point series and a one-point series
    lines = [Series("a", "Average", (0.0, 60.0), (1.0, 3.0)), Series("b", "Average", (30.0,), (2.0,))]
    # when drawn
    svg = svg_chart(lines)
    # then the first is a polyline, the second a dot, and the counts are on the svg element
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 1
    assert 'data-series="2"' in svg and 'data-points="3"' in svg
    # and an empty chart says so
    assert "no data" in svg_chart([Series("c", "Sum", (), ())])


def test_page_escapes_text_and_holds_every_widget() -> None:
    # given a dashboard with a plotted widget and a text widget containing markup
    view = DashboardView("board <1>", "test", [
        WidgetView("latency", series=[Series("p99 route=/tasks", "p99", (0.0, 1.0), (0.1, 0.2))]),
        WidgetView("notes", kind="text", markdown="<script>x</script>"),
    ])
    # when the page is rendered
    page = render_page([view], title="t", generated_at=datetime(2026, 1, 1, tzinfo=UTC), summary=["a & b"])
    # then markup is escaped and the plot is there
    assert "<script>" not in page and "&lt;script&gt;" in page and "board &lt;1&gt;" in page
    assert "a &amp; b" in page
    assert len(re.findall(r'<svg class="plot"', page)) == 1
