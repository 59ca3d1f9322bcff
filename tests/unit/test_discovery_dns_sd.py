"""dns_sd_configs: Prometheus' keys and checks, its __meta_dns_* labels, and names that fail
independently (each keeps its last group while the others refresh)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from promwatch.discovery import DNS_LOOKUP, DiscoveryCache, DiscoveryEnv, DiscoveryError, DnsSDConfig
from promwatch.discovery.dns.message import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_SRV,
    Message,
    MxData,
    Record,
    RecordData,
    SrvData,
)
from promwatch.discovery.dns.sd import answer_group
from promwatch.scrape import ConfigError, build_targets, parse_config

EMPTY = {"__meta_dns_srv_record_target": "", "__meta_dns_srv_record_port": "",
         "__meta_dns_mx_record_target": "", "__meta_dns_ns_record_target": ""}


def answer(*records: tuple[int, RecordData]) -> Message:
    return Message(1, 0x8180, (), tuple(Record("q.", rtype, 1, 30, data) for rtype, data in records))


def env(lookup: Callable[[str, int], Message | None]) -> DiscoveryEnv:
    def no_aws(service: str, region: str | None) -> object:
        raise AssertionError(f"no AWS call expected ({service})")
    return DiscoveryEnv(aws_client=no_aws, extras={DNS_LOOKUP: lookup})


def test_srv_records_become_targets_with_prometheus_labels() -> None:
    # Given an SRV answer (two records) for a Cloud Map service name,
    found = answer((TYPE_SRV, SrvData(1, 1, 9100, "host1.svc.local.")), (TYPE_SRV, SrvData(1, 1, 9200, "host2.svc.local.")))
    # when it becomes a group,
    group, skipped = answer_group("_metrics._tcp.svc.local", found, 0)
    assert skipped == ()
    # then each record is a target at its own host and port, the address without the final dot,
    # the record target with it, and every __meta_dns_* label present (empty when not its type).
    assert group.source == "_metrics._tcp.svc.local"
    assert [dict(t) for t in group.targets] == [
        {**EMPTY, "__address__": "host1.svc.local:9100", "__meta_dns_name": "_metrics._tcp.svc.local",
         "__meta_dns_srv_record_target": "host1.svc.local.", "__meta_dns_srv_record_port": "9100"},
        {**EMPTY, "__address__": "host2.svc.local:9200", "__meta_dns_name": "_metrics._tcp.svc.local",
         "__meta_dns_srv_record_target": "host2.svc.local.", "__meta_dns_srv_record_port": "9200"},
    ]


def test_a_aaaa_mx_and_ns_records_take_the_configured_port_and_cnames_are_skipped() -> None:
    # Given an answer through an alias (CNAME first) with A and AAAA records, and MX and NS ones,
    found = answer((TYPE_CNAME, "web.svc.local."), (TYPE_A, "10.0.0.7"), (TYPE_AAAA, "fd00::7"),
                   (15, MxData(10, "mail.svc.local.")), (2, "ns1.svc.local."), (16, b"\x03txt"))
    # then each address record is a target on the configured port (IPv6 in brackets), MX and NS
    # hosts too, with their record target labels; the CNAME and the TXT record make no target.
    group, skipped = answer_group("web", found, 8080)
    targets = [dict(t) for t in group.targets]
    assert [t["__address__"] for t in targets] == ["10.0.0.7:8080", "[fd00::7]:8080", "mail.svc.local:8080",
                                                    "ns1.svc.local:8080"]
    assert targets[2]["__meta_dns_mx_record_target"] == "mail.svc.local."
    assert targets[3]["__meta_dns_ns_record_target"] == "ns1.svc.local."
    assert all(t["__meta_dns_name"] == "web" for t in targets)
    # and the TXT record is handed back as skipped (the CNAME is no skip: it leads to the addresses)
    assert skipped == (found.answers[-1],)


def test_a_name_that_does_not_exist_is_an_empty_group() -> None:
    # Given a name every search domain answered "no such name", then its group has no target (not a failure).
    group, skipped = answer_group("gone.svc.local", None, 80)
    assert group.targets == () and skipped == ()


def test_answer_group_logs_nothing_and_discover_reports_the_skipped_records(caplog: pytest.LogCaptureFixture) -> None:
    # Given an answer with a TXT record among the A records
    found = answer((TYPE_A, "10.0.0.7"), (16, b"\x03txt"))
    # When the pure function makes the group, Then it logs nothing
    with caplog.at_level("WARNING"):
        answer_group("web", found, 8080)
    assert caplog.records == []
    # When discovery runs over that answer, Then the discovery (the caller) reports the skipped record
    with caplog.at_level("WARNING"):
        (group,) = DnsSDConfig(names=["web"], type="A", port=8080).discover(env(lambda name, qtype: found))
    assert [t["__address__"] for t in group.targets] == ["10.0.0.7:8080"]
    assert [r.getMessage() for r in caplog.records] == [
        "dns_sd 'web': skipping a record of type 16 (expected SRV, A, AAAA, MX or NS)"]


def test_relabel_rules_see_the_meta_labels_and_empty_ones_are_gone_after() -> None:
    # Given a job relabelling the SRV record's target into a label,
    config = parse_config("""
scrape_configs:
  - job_name: cloudmap
    dns_sd_configs: [{names: [_metrics._tcp.svc.local]}]
    relabel_configs:
      - {source_labels: [__meta_dns_srv_record_target], regex: '([^.]+)\\..*', target_label: host}
      - {source_labels: [__meta_dns_mx_record_target], target_label: mx}
""")
    job = config.scrape_configs[0]
    lookup = {("_metrics._tcp.svc.local", TYPE_SRV): answer((TYPE_SRV, SrvData(0, 0, 9100, "node-a.svc.local.")))}
    # when discovered and built,
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), env(lambda n, t: lookup[(n, t)]))
    targets, dropped = build_targets(job, discovered=groups)
    # then the target has the relabelled label, and an empty meta label made no label.
    assert failures == [] and dropped == []
    assert dict(targets[0].labels) == {"job": "cloudmap", "instance": "node-a.svc.local:9100", "host": "node-a"}
    assert targets[0].url == "http://node-a.svc.local:9100/metrics"


def test_a_failing_name_keeps_its_last_group_while_the_others_refresh() -> None:
    # Given two names discovered once,
    config = parse_config("scrape_configs: [{job_name: n, dns_sd_configs: [{names: [a.svc, b.svc], type: A, "
                          "port: 9100, refresh_interval: 1s}]}]")
    job = config.scrape_configs[0]
    addresses = {"a.svc": "10.0.0.1", "b.svc": "10.0.0.2"}
    broken: set[str] = set()

    def lookup(name: str, qtype: int) -> Message:
        assert qtype == TYPE_A
        if name in broken:
            raise DiscoveryError(f"dns_sd: could not resolve {name!r}: timed out")
        return answer((TYPE_A, addresses[name]))

    clock = iter([0.0, 5.0, 10.0])
    cache = DiscoveryCache(monotonic=lambda: next(clock))
    cache.groups(job.job_name, job.sd_configs(), env(lookup))
    # when one name fails on the next refresh while the other moved,
    broken.add("a.svc")
    addresses["b.svc"] = "10.0.0.3"
    groups, failures = cache.groups(job.job_name, job.sd_configs(), env(lookup))
    # then the failing name keeps its last target, the other has its new one, and the failure
    # is reported naming the name;
    assert sorted(t.address for t in build_targets(job, discovered=groups)[0]) == ["10.0.0.1:9100", "10.0.0.3:9100"]
    assert len(failures) == 1 and failures[0].stale and "'a.svc'" in failures[0].error
    # and when every name fails, every last group is kept.
    broken.add("b.svc")
    groups, failures = cache.groups(job.job_name, job.sd_configs(), env(lookup))
    assert sorted(t.address for t in build_targets(job, discovered=groups)[0]) == ["10.0.0.1:9100", "10.0.0.3:9100"]
    assert "'a.svc'" in failures[0].error and "'b.svc'" in failures[0].error


def test_the_first_discovery_failing_in_part_still_lists_the_names_that_resolved() -> None:
    # Given two names of which one fails on the very first discovery,
    config = parse_config("scrape_configs: [{job_name: n, dns_sd_configs: [{names: [a.svc, b.svc], type: A, port: 80}]}]")
    job = config.scrape_configs[0]

    def lookup(name: str, qtype: int) -> Message:
        if name == "a.svc":
            raise DiscoveryError("dns_sd: could not resolve 'a.svc': REFUSED")
        return answer((TYPE_A, "10.0.0.2"))

    # then the other's targets are listed and the failure reported (nothing older to keep).
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), env(lookup))
    assert [t.address for t in build_targets(job, discovered=groups)[0]] == ["10.0.0.2:80"]
    assert len(failures) == 1 and not failures[0].stale


def test_prometheus_defaults_and_any_case_type() -> None:
    # Given an entry with only names, and one with a lower-case type,
    jobs = parse_config("""
scrape_configs:
  - {job_name: a, dns_sd_configs: [{names: [_x._tcp.svc]}, {names: [web.svc], type: aaaa, port: 80}]}
""").scrape_configs[0].sd_configs()
    # then SRV and 30s are the defaults and the type is read in any case.
    first, second = (config for _, config in jobs)
    assert isinstance(first, DnsSDConfig) and first.type == "SRV" and first.refresh_interval == 30.0
    assert isinstance(second, DnsSDConfig) and second.type == "AAAA"


@pytest.mark.parametrize(("entry", "problem"), [
    ("{names: []}", "at least one SRV record name"),
    ("{names: [web.svc], type: A}", "a port is required in DNS-SD configs for all record types except SRV"),
    ("{names: [web.svc], type: MX}", "a port is required"),
    ("{names: [web.svc], type: TXT, port: 80}", "type"),
    ("{names: ['bad name.svc']}", "printable ASCII"),
    ("{names: [web.svc], port: 70000}", "port"),
    ("{names: [web.svc], nameservers: [dns.internal]}", "not a nameserver address"),
    ("{names: [web.svc], nameservers: []}", "at least one nameserver"),
    ("{names: [web.svc], server: 10.0.0.2}", "unknown key 'server'; expected one of names, nameservers, port"),
])
def test_a_bad_entry_is_refused_when_the_config_loads(entry: str, problem: str) -> None:
    # given a bad dns_sd_configs entry, when the config loads, then it is refused naming the problem
    with pytest.raises(ConfigError, match=r"dns_sd_configs\[0\].*" + problem):
        parse_config(f"scrape_configs: [{{job_name: a, dns_sd_configs: [{entry}]}}]")
