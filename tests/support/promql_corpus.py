"""PromQL queries promwatch's checker and Prometheus' own parser (promtool) judge alike, and
:func:`mutants`, the same queries with characters and words added and removed at random.

Every query here is read the same way by Prometheus 2.42 (Debian's promtool) and 3 (what
CloudWatch follows): Prometheus-3-only syntax (quoted UTF-8 names, renamed functions) is
tested against the checker alone (tests/unit/test_reconcile_promql.py).
"""
from __future__ import annotations

import random

VALID = (
    "up == 0",
    'up{job="api"} == 0',
    "rate(http_requests_total[5m])",
    'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
    "sum without (instance) (rate(x_total[1m])) / sum without (instance) (rate(y_total[1m])) > 0.05",
    "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "max_over_time(rate(foo_total[1m])[1h:5m])",
    "avg_over_time(x[5m:30s])",
    "foo offset 5m",
    "rate(foo[5m] offset 1h30m)",
    "a / on(job) group_left(version) b",
    "a * ignoring(code) group_right b",
    "topk(3, sum by (path) (rate(req_total[5m])))",
    "quantile(0.9, foo)",
    'count_values("version", build_info)',
    'label_replace(up, "host", "$1", "instance", "(.*):.*")',
    'label_join(up, "id", ",", "job", "instance")',
    'up == 0 or absent(up{job="api"})',
    "vector(1) and on() (hour() >= 9)",
    "clamp_min(x, 0)",
    "predict_linear(node_filesystem_avail_bytes[6h], 4 * 3600) < 0",
    "round(x, 0.5)",
    "-x",
    "time() - process_start_time_seconds > 3600",
    "foo @ 1609746000",
    "foo @ end()",
    "foo[5m] @ 100 offset 1m",
    "rate(foo[5m])[10m:] offset 1m",
    "0x1F + foo",
    "Inf > bool foo",
    'foo{job="a",}',
    "sum(foo) by (job)",
    "SUM BY (job) (foo)",
    "x unless y",
    "x ^ 2 ^ 3",
    "changes(x[1h]) > 3",
    "sort_desc(sum by (a) (b))",
    "x % 3",
    "x atan2 y",
    'foo{a!="", b!~"c|d"} > bool 1',
    "day_of_week()",
    "# a comment\nup == 0",
    ":job:requests:rate5m > 1",
    "count_values",
    "sum + by",
    r'foo{a="\u00e9\U0001F600\x41\101\a\b\f\n\r\t\v\\\""}',
    r"foo{a='\''}",
    r"foo{a=`\q`}",
)

INVALID = (
    "rate(foo)",
    "rte(foo[5m])",
    "sum(foo",
    "sum(rate(foo[5m])",
    "foo[5m",
    'foo{a="b}',
    "foo{a=b}",
    "foo[5x]",
    "foo[1m30h]",
    "topk(foo)",
    "foo offset",
    "(foo)[5m]",
    "max_over_time(foo[5m])[1h]",
    '{a=""}',
    'foo{a=~"("}',
    'foo{a=~"(?=x)"}',
    '{a=~"a|"}',
    "sum by job (foo)",
    "foo and 1",
    "histogram_quantile(foo_bucket, 0.9)",
    "foo +",
    ")",
    "abs(-1)",
    "1 > 2",
    "foo offset 5m[5m]",
    "sum(foo) by (a) by (b)",
    "a + on(job) 1",
    "rate(foo[5m]) by (job)",
    'label_replace(up, "a", "b")',
    "1h",
    "foo{a}",
    "foo offset 1m offset 2m",
    "foo @ 1 @ 2",
    "sum(foo) @ 100",
    "foo[300]",
    "rate(foo[5m] offset 0m)",
    "round(x, 0.5,)",
    "round(x,)",
    "up == 0or absent(up)",
    "foo[5m] @ 100offset 1m",
    "on + 1",
    "x or on(a) group_left y",
    "x and on(a) group_left y",
    "x unless ignoring(a) group_right(b) y",
    "x * on(a) group_left(a) y",
    'x{__name__="y"}',
    'x{job="a", __name__=~"y.*"}',
    "x > 1e400",
    "x > -1e400",
    "x @ 1e400",
    "x @ 1e19",
    "x + 0x8000000000000000",
    "x[293y]",
    "x offset 106752d",
    "rate(x[5m:106752d])",
    "limitk(1, x)",
    "limit_ratio(0.5, x)",
    'sort_by_label(x, "job")',
    r'foo{a="\q"}',
    r'foo{a="\'"}',
    r"foo{a='\"'}",
    r'foo{a="\400"}',
    r'foo{a="\x4"}',
    r'foo{a="\ud800"}',
)


MUTATIONS = (*'()[]{}",=~!<>+-*/^:@ 5mhs.', "by", "offset", "sum", "rate", "bool", "on", "[5m]", "1", "foo", "le")


def mutants(seed: int, count: int) -> list[str]:
    """``count`` variants of :data:`VALID` (a character dropped, a piece inserted, a span cut), most invalid."""
    chance = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        query = chance.choice(VALID)
        i, j = sorted((chance.randrange(len(query) + 1), chance.randrange(len(query) + 1)))
        roll = chance.random()
        if roll < 0.33:
            query = query[:i] + query[i + 1:]
        elif roll < 0.66:
            query = query[:i] + chance.choice(MUTATIONS) + query[i:]
        else:
            query = query[:i] + query[j:]
        if query.strip():
            found.add(query)
    return sorted(found)
