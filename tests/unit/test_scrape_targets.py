"""Target building, the target guard, page processing (honor_labels, metric relabelling, limits)."""
from __future__ import annotations

import pytest
from promwatch.discovery import TargetGroup
from promwatch.exposition import Family, Sample
from promwatch.httpclient import refusal
from promwatch.scrape import LimitExceededError, WarmMemory, build_targets, parse_config
from promwatch.scrape.errors import ConfigError
from promwatch.scrape.fanout import FanoutError, batch_body, read_batch, split_batches
from promwatch.scrape.process import process_page
from promwatch.scrape.settings import ScrapeSettings


def job(yaml_job: str):  # type: ignore[no-untyped-def]
    return parse_config(f"scrape_configs: [{yaml_job}]").scrape_configs[0]


def test_static_targets_get_job_instance_and_group_labels() -> None:
    # Given a static config with two targets and group labels,
    j = job("{job_name: api, params: {format: [prometheus]}, static_configs: [{targets: ['a:1', 'b:2'], labels: {env: prod}}]}")
    # when targets are built,
    targets, dropped = build_targets(j)
    # then each has job, instance (= address) and the group labels, and the params in its URL.
    assert dropped == []
    assert [t.url for t in targets] == ["http://a:1/metrics?format=prometheus", "http://b:2/metrics?format=prometheus"]
    assert targets[0].labels == {"job": "api", "instance": "a:1", "env": "prod"}
    assert targets[0].key == "api|http://a:1/metrics?format=prometheus"


def test_external_labels_fill_in_without_overriding() -> None:
    # Given global external_labels, then targets get them unless they have that label already.
    config = parse_config("""
global: {external_labels: {region: eu-west-1, env: global}}
scrape_configs: [{job_name: j, static_configs: [{targets: ['a:1'], labels: {env: prod}}]}]
""")
    targets, _ = build_targets(config.scrape_configs[0], config.global_.external_labels)
    assert targets[0].labels == {"job": "j", "instance": "a:1", "env": "prod", "region": "eu-west-1"}


def test_an_empty_label_value_is_no_label() -> None:
    # Given discovered labels with empty values (a Kubernetes label "node-role: ''", an empty
    # __metrics_path__) and a labelmap copying the empty meta label,
    j = job("""{job_name: j, metrics_path: /m, static_configs: [{targets: ['a:1'], labels: {env: ''}}],
               relabel_configs: [{action: labelmap, regex: __meta_k_(.+)}]}""")
    group = TargetGroup("g", ({"__address__": "b:2", "__metrics_path__": "", "__meta_k_role": ""},), {"zone": ""})
    # when targets are built,
    targets, _ = build_targets(j, discovered=[group])
    # then, as in Prometheus (an empty value is a missing label), no empty label reaches the
    # target and the job's metrics_path applies.
    assert [(t.url, dict(t.labels)) for t in targets] == [
        ("http://a:1/m", {"job": "j", "instance": "a:1"}),
        ("http://b:2/m", {"job": "j", "instance": "b:2"}),
    ]


def test_relabel_configs_shape_url_and_drop_reserved_labels() -> None:
    # Given relabel rules rewriting scheme, path, a param and instance, and using __tmp labels,
    j = job("""{job_name: j, static_configs: [{targets: ['host:9100', 'skip:1']}], relabel_configs: [
        {source_labels: [__address__], regex: 'skip:.*', action: drop},
        {target_label: __scheme__, replacement: https},
        {target_label: __metrics_path__, replacement: /probe},
        {target_label: __param_module, replacement: http_2xx},
        {source_labels: [__address__], regex: '([^:]+):.*', target_label: __tmp_host},
        {source_labels: [__tmp_host], target_label: instance}]}""")
    # when targets are built,
    targets, dropped = build_targets(j)
    # then the URL follows the __ labels, __ labels are gone from the target, and one is dropped.
    assert [t.url for t in targets] == ["https://host:9100/probe?module=http_2xx"]
    assert targets[0].labels == {"job": "j", "instance": "host"}
    assert len(dropped) == 1 and dropped[0].reason == "dropped by relabel_configs"


def test_blackbox_style_url_targets_load_and_become_probe_urls() -> None:
    # Given the blackbox exporter's documented job: URLs as static targets, moved to
    # __param_target, with __address__ set to the exporter (Prometheus checks the address
    # after relabelling, not before),
    j = job("""{job_name: blackbox, metrics_path: /probe, params: {module: [http_2xx]},
        static_configs: [{targets: ['https://example.com', 'http://intranet.local:8080/health?x=1']}],
        relabel_configs: [
          {source_labels: [__address__], target_label: __param_target},
          {source_labels: [__param_target], target_label: instance},
          {target_label: __address__, replacement: 'blackbox-exporter:9115'}]}""")
    # when targets are built,
    targets, dropped = build_targets(j)
    # then each probes its URL through the exporter, named by the URL.
    assert not dropped
    assert [t.url for t in targets] == [
        "http://blackbox-exporter:9115/probe?module=http_2xx&target=https%3A%2F%2Fexample.com",
        "http://blackbox-exporter:9115/probe?module=http_2xx&target=http%3A%2F%2Fintranet.local%3A8080%2Fhealth%3Fx%3D1",
    ]
    assert [t.labels["instance"] for t in targets] == ["https://example.com", "http://intranet.local:8080/health?x=1"]


@pytest.mark.parametrize(
    ("target", "resolved", "refused"),
    [
        ("169.254.169.254:80", [], True),
        ("169.254.170.2", [], True),
        ("[fd00:ec2::254]:80", [], True),
        ("[fe80::1]:9100", [], True),
        ("[::ffff:169.254.169.254]:80", [], True),
        ("metadata.internal:80", ["169.254.169.254"], True),
        ("app.internal:80", ["10.0.0.5", "fe80::2"], True),
        ("app.internal:80", ["10.0.0.5"], False),
        ("10.1.2.3:9100", [], False),
        ("127.0.0.1:9100", [], False),
    ],
)
def test_guard_refuses_link_local_and_metadata(target: str, resolved: list[str], refused: bool) -> None:
    # Given a target and what its name resolves to, then the guard refuses link-local and
    # instance-metadata addresses (also behind a name), and allows the rest.
    reason = refusal(target, allow_link_local=False, resolver=lambda host: resolved)
    assert (reason is not None) is refused
    # allow_link_local switches the guard off.
    assert refusal(target, allow_link_local=True, resolver=lambda host: resolved) is None


def test_guard_does_not_resolve_ip_literals() -> None:
    # Given an IP literal, then the resolver is never called.
    def resolver(host: str) -> list[str]:
        raise AssertionError("resolver called for an IP literal")

    assert refusal("http://10.0.0.1:80/metrics", allow_link_local=False, resolver=resolver) is None


def _families() -> list[Family]:
    return [
        Family("http_requests_total", "counter", "", "", [
            Sample("http_requests_total", {"route": "/a", "job": "scraped-job"}, 3.0),
            Sample("http_requests_total", {"route": "/b"}, 4.0),
        ]),
        Family("go_gc_duration_seconds", "summary", "", "", [
            Sample("go_gc_duration_seconds_sum", {}, 1.0),
        ]),
    ]


def test_honor_labels_false_keeps_scraped_value_as_exported() -> None:
    # Given a scraped label that clashes with a target label and honor_labels false,
    j = job("{job_name: j}")
    page = process_page(_families(), j, {"job": "j", "instance": "h:1"})
    # then the target's value wins and the scraped one is kept as exported_job.
    first = page.families[0].samples[0]
    assert first.labels["job"] == "j" and first.labels["exported_job"] == "scraped-job"
    assert page.samples_scraped == page.samples_post_relabel == 3


def test_honor_labels_true_keeps_scraped_value() -> None:
    # Given honor_labels true, then the scraped value wins.
    j = job("{job_name: j, honor_labels: true}")
    page = process_page(_families(), j, {"job": "j", "instance": "h:1"})
    assert page.families[0].samples[0].labels["job"] == "scraped-job"
    assert "exported_job" not in page.families[0].samples[0].labels


def test_metric_relabel_sees_name_and_target_labels() -> None:
    # Given metric_relabel_configs dropping a family by __name__ and rewriting by instance,
    j = job("""{job_name: j, metric_relabel_configs: [
        {source_labels: [__name__], regex: 'go_.*', action: drop},
        {source_labels: [instance], regex: '([^:]+):.*', target_label: host},
        {source_labels: [route], regex: '/b', action: drop}]}""")
    page = process_page(_families(), j, {"job": "j", "instance": "h:1"})
    # then dropped samples are counted and the others carry the rewritten labels.
    assert [s.labels.get("host") for f in page.families for s in f.samples] == ["h"]
    assert (page.samples_scraped, page.samples_post_relabel, page.relabel_dropped) == (3, 1, 2)


def test_relabelled_samples_keep_one_mapping_per_label_set_across_scrapes() -> None:
    # Given a job whose rules rewrite labels, and a page with a clash (exported_job)
    j = job("""{job_name: j, metric_relabel_configs: [
        {source_labels: [instance], regex: '([^:]+):.*', target_label: host}]}""")
    target_labels = {"job": "j", "instance": "h:1"}
    # when two scrapes of the same page are processed with one warm memory (new mappings
    # each time, as relabelling makes)
    memory = WarmMemory()
    first = process_page(_families(), j, target_labels, memory=memory)
    second = process_page(_families(), j, target_labels, memory=memory)
    # then each sample of the second has the very mapping of the first: the translation's
    # per-series work (keyed on the mapping) is done once, not once per scrape
    pairs = list(zip((s for f in first.families for s in f.samples), (s for f in second.families for s in f.samples),
                     strict=True))
    assert pairs and all(a.labels is b.labels for a, b in pairs)
    assert first.families[0].samples[0].labels == {
        "job": "j", "exported_job": "scraped-job", "instance": "h:1", "route": "/a", "host": "h"}
    # and distinct label sets keep distinct mappings
    assert len({id(a.labels) for a, _ in pairs}) == len({tuple(a.labels.items()) for a, _ in pairs})


def test_metric_relabel_can_rename() -> None:
    # Given a rule writing __name__, then the sample's name changes.
    j = job("{job_name: j, metric_relabel_configs: [{source_labels: [__name__], regex: 'http_(.*)', target_label: __name__, replacement: 'web_$1'}]}")
    page = process_page(_families(), j, {})
    assert page.families[0].samples[0].name == "web_requests_total"


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("sample_limit: 2", "sample_limit exceeded: 3 samples"),
        ("label_limit: 3", "label_limit exceeded (metric: http_requests_total, number of labels: 5"),
        ("label_name_length_limit: 4", "label_name_length_limit exceeded"),
        ("label_value_length_limit: 1", "label_value_length_limit exceeded"),
    ],
)
def test_limits_fail_the_scrape(limits: str, message: str) -> None:
    # Given a job whose limits the page breaks, then processing fails like Prometheus' scrape.
    j = job(f"{{job_name: j, {limits}}}")
    with pytest.raises(LimitExceededError, match=message.replace("(", r"\(")):
        process_page(_families(), j, {"job": "j", "instance": "h:1"})


def test_limits_not_reached_pass() -> None:
    # Given limits the page respects (after relabelling), then nothing fails.
    j = job("{job_name: j, sample_limit: 1, metric_relabel_configs: [{source_labels: [route], regex: '/a', action: keep}]}")
    assert process_page(_families(), j, {}).samples_post_relabel == 1


def test_fanout_batches_roundtrip() -> None:
    # Given 5 targets and batches of 2, then 3 messages that read back to the same keys.
    j = job("{job_name: j, static_configs: [{targets: ['a:1', 'b:1', 'c:1', 'd:1', 'e:1']}]}")
    targets, _ = build_targets(j)
    batches = split_batches(targets, 2)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert read_batch(batch_body(batches[0])).keys == [t.key for t in batches[0]]
    assert read_batch(batch_body(batches[0])).scrape_targets() == batches[0]
    with pytest.raises(FanoutError, match="not a fan-out batch"):
        read_batch('{"targets": []}')


def test_settings_from_env() -> None:
    # Given the environment template.yaml sets, then the settings read it; a bad value names its variable.
    settings = ScrapeSettings.from_env({
        "PROMWATCH_SCRAPE_CONFIG": "ssm:/promwatch/scrape", "PROMWATCH_CONFIG_TTL_SECONDS": "300",
        "PROMWATCH_STATE_TABLE": "t", "PROMWATCH_FANOUT_QUEUE_URL": "https://sqs/q",
        "PROMWATCH_MAX_TARGETS_PER_INVOCATION": "50", "PROMWATCH_OUTPUT": "logs:/promwatch/metrics/dev",
        "PROMWATCH_STAGE": "dev",
    })
    assert (settings.config_source, settings.max_targets_per_invocation, settings.stage) == ("ssm:/promwatch/scrape", 50, "dev")
    with pytest.raises(ConfigError, match="PROMWATCH_MAX_TARGETS_PER_INVOCATION='many'"):
        ScrapeSettings.from_env({"PROMWATCH_MAX_TARGETS_PER_INVOCATION": "many"})


@pytest.mark.parametrize("ttl", ["nan", "inf", "1e400", "-1"])
def test_config_ttl_must_be_a_finite_number_of_seconds(ttl: str) -> None:
    # Given a TTL that is not a finite number >= 0 (inf and 1e400 were read as "never reload"),
    # Then the settings are refused naming the variable.
    with pytest.raises(ConfigError, match=f"PROMWATCH_CONFIG_TTL_SECONDS='{ttl}'"):
        ScrapeSettings.from_env({"PROMWATCH_CONFIG_TTL_SECONDS": ttl})
