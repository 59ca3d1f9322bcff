"""Each discovered target's labels before relabelling and what became of it (Prometheus' targets
page), and discovered labels with empty values read as Prometheus reads them."""
from __future__ import annotations

from promwatch.discovery import TargetGroup
from promwatch.scrape import DroppedTarget, Target, build_targets, parse_config, target_details


def test_an_empty_discovered_label_is_no_label_and_the_job_default_applies() -> None:
    # Given a discovered group whose labels set job, __scheme__ and __metrics_path__ to "" (an
    # SD endpoint writing every key), and a target whose own empty env hides its group's,
    job = parse_config("scrape_configs: [{job_name: node}]").scrape_configs[0]
    group = TargetGroup("sd:0", ({"__address__": "10.0.0.1:9100", "env": ""},),
                        {"job": "", "__scheme__": "", "__metrics_path__": "", "env": "prod"})
    # when targets are built,
    targets, dropped = build_targets(job, discovered=[group])
    # then, as in Prometheus, the empty labels are absent: the job's own defaults apply.
    assert dropped == []
    assert targets[0].url == "http://10.0.0.1:9100/metrics"
    assert dict(targets[0].labels) == {"job": "node", "instance": "10.0.0.1:9100"}


def test_details_keep_discovered_labels_final_labels_and_drop_reasons() -> None:
    # Given a job with a static target, two discovered ones and a rule dropping one of them,
    config = parse_config("""
global: {external_labels: {region: eu-west-1}}
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['a:1']}]
    relabel_configs:
      - {source_labels: [__meta_zone], target_label: zone}
      - {source_labels: [__address__], regex: 'c:.*', action: drop}
""")
    job = config.scrape_configs[0]
    discovered = [TargetGroup("sd:0", ({"__address__": "b:2", "__meta_zone": "z1"}, {"__address__": "c:3"}))]
    # when details are built,
    details = target_details(job, config.global_.external_labels, discovered)
    # then every target is there in order, each with its labels before relabelling (job defaults
    # included) and its result: final labels and URL, or the reason it was dropped;
    assert [type(d.result) for d in details] == [Target, Target, DroppedTarget]
    assert dict(details[1].discovered_labels) == {
        "__address__": "b:2", "__meta_zone": "z1", "job": "node", "__scheme__": "http", "__metrics_path__": "/metrics",
        "__scrape_interval__": "1m", "__scrape_timeout__": "10s"}
    kept = details[1].result
    assert isinstance(kept, Target) and dict(kept.labels) == {
        "job": "node", "instance": "b:2", "zone": "z1", "region": "eu-west-1"}
    gone = details[2].result
    assert isinstance(gone, DroppedTarget) and gone.reason == "dropped by relabel_configs"
    assert details[2].discovered_labels["__address__"] == "c:3"
    # and build_targets gives the same targets.
    assert build_targets(job, config.global_.external_labels, discovered) == (
        [details[0].result, details[1].result], [details[2].result])


def test_a_duplicate_target_is_listed_once() -> None:
    # Given the same target found twice (static and discovered), then it is one target.
    job = parse_config("scrape_configs: [{job_name: n, static_configs: [{targets: ['a:1']}]}]").scrape_configs[0]
    details = target_details(job, discovered=[TargetGroup("sd:0", ({"__address__": "a:1"},))])
    assert len(details) == 1
