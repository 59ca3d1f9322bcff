"""End to end: dns_sd_configs against a real DNS server (Debian's dnsmasq on 127.0.0.1, started
by the tests), then the discovered targets scraped for real -- exporters listening on 127.0.0.5
and 127.0.0.6, as a Cloud Map namespace's instances would -- through the scraper's guarded fetch
and by a `promwatch scrape` process."""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from promwatch.discovery import RESOLV_CONF_PATH, DiscoveryCache, DiscoveryEnv, DiscoveryError, default_env
from promwatch.discovery.dns.client import ask, lookup
from promwatch.discovery.dns.message import TYPE_A
from promwatch.discovery.dns.resolv import Nameserver, ResolvConf
from promwatch.exposition import parse
from promwatch.httpclient import ConnectionPool, SecretResolver, fetch
from promwatch.scrape import build_targets, parse_config
from promwatch.scrape.request import fetch_request

from tests.conftest import free_port
from tests.support.system_deps import require_binary

pytestmark = pytest.mark.e2e

PROMWATCH = str(Path(sys.executable).with_name("promwatch"))
HOSTS = {"host1": "127.0.0.5", "host2": "127.0.0.6"}
BIG_SERVICE_RECORDS = 40
"""SRV records of _big._tcp: with answers capped at 512 octets over UDP (--edns-packet-max), at
most 11 fit, so all 40 arrive only by asking again over TCP."""


@dataclass
class Dns:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def addresses(self, host: str) -> list[str]:
        """``host``'s A records, asked of this server (the scraper's resolver in these tests)."""
        conf = ResolvConf((Nameserver("127.0.0.1", self.port),), ())
        answer = lookup(host, TYPE_A, conf, time.monotonic() + 5)
        return [str(r.data) for r in answer.answers if r.rtype == TYPE_A] if answer else []


@pytest.fixture
def exporter_port() -> Iterator[int]:
    """One port on which an exporter listens on each of 127.0.0.5 and 127.0.0.6, telling which it is."""
    port = free_port()
    servers = []
    for name, address in HOSTS.items():
        page = f"# TYPE node_up gauge\nnode_up{{node=\"{name}\"}} 1\n".encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            body = page

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(self.body)))
                self.end_headers()
                self.wfile.write(self.body)

            def log_message(self, *args: Any) -> None:
                return None

        server = http.server.ThreadingHTTPServer((address, port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield port
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def dns(exporter_port: int, tmp_path: Path) -> Iterator[Dns]:
    """dnsmasq answering for example.test: SRV for _metrics._tcp (host1, host2 on the exporters'
    port), A for host1, host2 and web (both addresses), 40 SRV records for _big._tcp, "no such
    name" for the rest of example.test and REFUSED outside it."""
    dnsmasq = require_binary("dnsmasq", package="dnsmasq-base", also_in=("/usr/sbin", "/sbin"))
    port = free_port()
    records = [f"--srv-host=_metrics._tcp.example.test,{name}.example.test,{exporter_port}" for name in HOSTS]
    records += [f"--host-record={name}.example.test,{address}" for name, address in HOSTS.items()]
    records += [f"--host-record=web.example.test,{address}" for address in HOSTS.values()]
    records += [f"--srv-host=_big._tcp.example.test,node-{i}.example.test,9100" for i in range(BIG_SERVICE_RECORDS)]
    log = (tmp_path / "dnsmasq.log").open("wb")
    process = subprocess.Popen(
        [dnsmasq, "--no-daemon", "-C", "/dev/null", "--pid-file=", f"--port={port}", "--listen-address=127.0.0.1",
         "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/example.test/", "--edns-packet-max=512",
         "--log-queries", "--log-facility=-", *records],
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = Dns(port, process)
    deadline = time.monotonic() + 15
    while True:  # ready when it answers
        try:
            ask(Nameserver("127.0.0.1", port), "host1.example.test.", TYPE_A, time.monotonic() + 1)
            break
        except DiscoveryError as exc:  # not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"dnsmasq did not answer: {exc}; log: {(tmp_path / 'dnsmasq.log').read_text()}")
            time.sleep(0.1)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        log.close()


def scrape(job: Any, target: Any, dns: Dns) -> str:
    """Fetch a target for real, through the scraper's guarded fetch (host names resolved by the
    test's DNS server), and return which exporter answered (its node_up sample's node label)."""
    with ConnectionPool() as pool:
        response = fetch(fetch_request(job, target, SecretResolver()), pool=pool, resolver=dns.addresses)
    (sample,) = [s for f in parse(response.text, content_type=response.content_type) for s in f.samples]
    return sample.labels["node"]


def test_srv_records_are_discovered_and_their_targets_scraped(dns: Dns, exporter_port: int) -> None:
    # Given a job discovering a service's SRV records and naming targets after the record's host,
    config = parse_config(f"""
scrape_configs:
  - job_name: cloudmap
    dns_sd_configs: [{{names: [_metrics._tcp.example.test], nameservers: ['{dns.nameserver}']}}]
    relabel_configs:
      - {{source_labels: [__meta_dns_srv_record_target], regex: '([^.]+)\\..*', target_label: host}}
""")
    job = config.scrape_configs[0]
    # when discovered (through the real resolv.conf's search list, the configured nameserver),
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), default_env())
    targets, dropped = build_targets(job, discovered=groups)
    # then both instances are targets at their SRV host and port,
    assert failures == [] and dropped == []
    assert sorted(t.address for t in targets) == [f"host1.example.test:{exporter_port}",
                                                  f"host2.example.test:{exporter_port}"]
    assert {t.labels["host"] for t in targets} == {"host1", "host2"}
    # and scraping each reaches that very instance.
    for target in targets:
        assert scrape(job, target, dns) == target.labels["host"]


def test_a_records_are_discovered_on_the_configured_port_through_the_search_list(
    dns: Dns, exporter_port: int, tmp_path: Path
) -> None:
    # Given a resolv.conf searching example.test and a job asking for the A records of "web",
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search example.test\noptions ndots:1\n")
    config = parse_config(f"""
scrape_configs:
  - job_name: web
    dns_sd_configs: [{{names: [web], type: A, port: {exporter_port}, nameservers: ['{dns.nameserver}']}}]
""")
    job = config.scrape_configs[0]
    environment = DiscoveryEnv(aws_client=default_env().aws_client, extras={RESOLV_CONF_PATH: str(resolv)})
    # when discovered,
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), environment)
    targets, _ = build_targets(job, discovered=groups)
    # then "web" was found as web.example.test: one target per address, named as configured,
    assert failures == []
    assert sorted(t.address for t in targets) == [f"127.0.0.5:{exporter_port}", f"127.0.0.6:{exporter_port}"]
    assert {g.targets[0]["__meta_dns_name"] for g in groups} == {"web"}
    # and each is scraped for real.
    assert sorted(scrape(job, t, dns) for t in targets) == ["host1", "host2"]


def test_an_answer_too_big_for_udp_is_asked_again_over_tcp(dns: Dns) -> None:
    # Given a service with more SRV records than a 512-octet UDP answer holds,
    config = parse_config(f"scrape_configs: [{{job_name: big, dns_sd_configs: [{{names: [_big._tcp.example.test], "
                          f"nameservers: ['{dns.nameserver}']}}]}}]")
    job = config.scrape_configs[0]
    # when discovered, then every record arrives (the truncated UDP answer was asked again over TCP).
    groups, failures = DiscoveryCache().groups(job.job_name, job.sd_configs(), default_env())
    assert failures == []
    assert len(build_targets(job, discovered=groups)[0]) == BIG_SERVICE_RECORDS


def test_names_that_do_not_exist_or_fail_and_a_server_gone(dns: Dns, exporter_port: int) -> None:
    # Given a job with a name that exists, one that does not (NXDOMAIN) and one the server refuses,
    config = parse_config(f"""
scrape_configs:
  - job_name: mixed
    dns_sd_configs:
      - names: [web.example.test, gone.example.test, outside.invalid]
        type: A
        port: {exporter_port}
        refresh_interval: 1s
        nameservers: ['{dns.nameserver}']
""")
    job = config.scrape_configs[0]
    clock = iter([0.0, 10.0])
    cache = DiscoveryCache(monotonic=lambda: next(clock))
    # when discovered,
    groups, failures = cache.groups(job.job_name, job.sd_configs(), default_env())
    # then the name that does not exist is an empty group, not a failure; the refused one fails
    # (named, with the server's answer) while the others' targets are listed;
    assert {g.source: len(g.targets) for g in groups} == {"web.example.test": 2, "gone.example.test": 0}
    assert len(failures) == 1 and "'outside.invalid'" in failures[0].error and "REFUSED" in failures[0].error
    # and when the DNS server is gone, the next refresh fails and every last group is kept.
    dns.process.terminate()
    dns.process.wait(timeout=10)
    later, failures = cache.groups(job.job_name, job.sd_configs(), default_env())
    assert later == groups
    assert len(failures) == 1 and failures[0].stale and "'web.example.test'" in failures[0].error


def test_promwatch_scrape_scrapes_what_dns_discovers(dns: Dns, exporter_port: int, tmp_path: Path) -> None:
    # Given a config whose job finds its instances by their A records,
    config = tmp_path / "scrape.yaml"
    config.write_text(f"""
scrape_configs:
  - job_name: web
    dns_sd_configs: [{{names: [web.example.test], type: A, port: {exporter_port}, nameservers: ['{dns.nameserver}']}}]
    relabel_configs:
      - {{source_labels: [__meta_dns_name], target_label: service}}
""")
    # when a `promwatch scrape` process runs on it,
    result = subprocess.run([PROMWATCH, "scrape", "--config", str(config)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    # then both instances were scraped, up, each page's sample published with the target's labels.
    ups = {d["instance"]: d["up"] for d in documents if "up" in d and d.get("job") == "web"}
    assert ups == {f"127.0.0.5:{exporter_port}": 1, f"127.0.0.6:{exporter_port}": 1}
    nodes = {(d["instance"], d["node"], d["service"]) for d in documents if "node_up" in d}
    assert nodes == {(f"127.0.0.5:{exporter_port}", "host1", "web.example.test"),
                     (f"127.0.0.6:{exporter_port}", "host2", "web.example.test")}
