"""OTLP request packing (promwatch.otlp.encode): split to the endpoint's limits before serializing."""
from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from promwatch.exposition import Family, Sample
from promwatch.otlp import ScrapeTarget, batches, to_resource_metrics

TARGET = ScrapeTarget("api", "h:1", "http://h:1/metrics", {"job": "api", "instance": "h:1"})


def _resource(points: int, *, label_chars: int = 8, instance: str = "h:1") -> object:
    samples = [Sample("g", {"series": f"{i:0{label_chars}d}"}, float(i)) for i in range(points)]
    return to_resource_metrics([Family("g", "gauge", "", "", samples)], target=TARGET._replace(instance=instance),
                               now_ms=1, previous_starts={}).resource_metrics


def _decoded(body: bytes) -> list[float]:
    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    return [p.as_double for r in request.resource_metrics for s in r.scope_metrics for m in s.metrics
            for p in m.gauge.data_points]


def test_points_beyond_the_request_limit_go_in_further_requests_none_lost() -> None:
    # given two targets of 7 and 5 points, and a limit of 4 points per request
    entries = [("a", _resource(7)), ("b", _resource(5, instance="h:2"))]
    # when packed
    out, too_large = batches(entries, max_points=4)
    # then every request holds at most 4 points and together they hold all 12, in order
    assert too_large == 0
    assert [b.points for b in out] == [4, 3, 4, 1]
    sent = [v for b in out for v in _decoded(b.body())]
    assert sent == [float(i) for i in range(7)] + [float(i) for i in range(5)]
    # and each request knows whose points it carries
    assert out[0].tickets == {"a"} and out[-1].tickets == {"b"}


def test_requests_never_exceed_the_byte_limit() -> None:
    # given one target with large labels and a small byte limit
    entries = [("a", _resource(50, label_chars=300))]
    # when packed
    out, too_large = batches(entries, max_bytes=4000)
    # then each serialized request is within the limit, and all points are there
    assert too_large == 0 and len(out) > 1
    assert all(len(b.body()) <= 4000 for b in out)
    assert sum(len(_decoded(b.body())) for b in out) == 50


def test_a_point_too_large_for_any_request_is_counted_not_sent() -> None:
    # given a point larger than the whole byte limit
    out, too_large = batches([("a", _resource(1, label_chars=3000))], max_bytes=1000)
    # then it is counted and nothing is sent
    assert (out, too_large) == ([], 1)


def test_small_targets_share_one_request() -> None:
    # given two small targets' metrics, when batched
    out, _ = batches([("a", _resource(2)), ("b", _resource(3, instance="h:2"))])
    # then they share one request carrying both tickets and all the points
    assert len(out) == 1 and out[0].tickets == {"a", "b"} and out[0].points == 5


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from promwatch.otlp.sink import retry_after_seconds

    # given a now
    now = 1_700_000_000.0
    # when Retry-After is read as seconds or as an HTTP date, then it is the seconds to wait
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Tue, 14 Nov 2023 22:13:40 GMT", now) == 20.0
    # and text that is neither, or no header, gives none
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_the_server_message_is_read_from_a_google_rpc_status_or_text() -> None:
    from promwatch.otlp.sink import status_message

    # given a google.rpc.Status {code: 3, message: "bad name"} as protobuf bytes
    status = bytes([0x08, 0x03, 0x12, 0x08]) + b"bad name"
    assert status_message(status, "application/x-protobuf") == "bad name"
    assert status_message(b"plain words", "text/plain") == "plain words"
