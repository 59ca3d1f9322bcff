"""Scrape config validation: Prometheus defaults, global inheritance, messages, secrets."""
from __future__ import annotations

from pathlib import Path

import pytest
from promwatch.scrape import ConfigError, ConfigLoader, parse_config
from promwatch.units import format_duration, parse_duration, parse_size

GOOD = """
global:
  scrape_interval: 30s
  external_labels: {region: eu}
  body_size_limit: 10MB
  emf: {units: {"x_bytes": Bytes}}
scrape_configs:
  - job_name: prod/task-service
    static_configs: [{targets: ["127.0.0.1:3000"], labels: {env: prod}}]
  - job_name: node
    scrape_interval: 5s
    body_size_limit: 1KB
    emf: {namespace: Node}
"""


def test_defaults_and_global_inheritance() -> None:
    # Given a config with some global settings, when parsed, then jobs inherit what they leave out.
    config = parse_config(GOOD)
    task, node = config.scrape_configs
    assert (task.interval, task.timeout, task.metrics_path, task.scheme) == (30.0, 10.0, "/metrics", "http")
    assert task.honor_timestamps is True and task.honor_labels is False and task.strict is False
    assert task.body_size_limit == 10 * 1024 * 1024
    assert task.emf.namespace == "prod/task-service"  # namespace defaults to the job name
    assert task.emf.units == {"x_bytes": "Bytes"}
    # A job's own settings win; a global timeout longer than its interval shrinks to it.
    assert (node.interval, node.timeout, node.body_size_limit) == (5.0, 5.0, 1024)
    assert node.emf.namespace == "Node" and node.emf.units == {"x_bytes": "Bytes"}


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("scrape_configs: [{job_name: a, relabel_configs: [{action: Bogus}]}]",
         "scrape_configs[0].relabel_configs[0].action: Input should be 'replace'"),
        ("scrape_configs: [{job_name: a, relabel_configs: [{}, {action: hashmod, target_label: x}]}]",
         "scrape_configs[0].relabel_configs[1]: relabel configuration for hashmod requires non-zero modulus"),
        ("scrape_configs: [{job_name: a, scrape_interval: 5 minutes}]",
         "scrape_configs[0].scrape_interval: '5 minutes' is not a duration; expected e.g. 15s"),
        ("scrape_configs: [{job_name: a, scrape_interval: 10s, scrape_timeout: 1m}]",
         "scrape timeout 1m is greater than scrape interval 10s"),
        ("scrape_configs: [{job_name: a, scheme: ftp}]", "scrape_configs[0].scheme: Input should be 'http' or 'https' (got 'ftp')"),
        ("scrape_configs: [{job_name: a, scrap_interval: 1m}]",
         "scrape_configs[0].scrap_interval: unknown key 'scrap_interval'; expected one of allow_link_local"),
        ("scrape_configs: [{job_name: a}, {job_name: a}]", "found multiple scrape configs with job name 'a'"),
        ("scrape_configs: [{job_name: '  '}]", "scrape_configs[0].job_name: dimension value '  '"),
        ("scrape_configs: [{job_name: a, emf: {namespace: \"ns\\n\"}}]", "scrape_configs[0].emf.namespace"),
        ("scrape_configs: [{job_name: a, static_configs: [{targets: ['http://x:1/metrics']}]}]",
         "static_configs[0].targets: address 'http://x:1/metrics' holds a scheme; expected host:port; "
         "a URL or path target needs relabel_configs that set __address__"),
        ("scrape_configs: [{job_name: a, static_configs: [{targets: ['x:1/metrics']}]}]", "holds a path"),
        # what relabelling cannot make safe is refused whatever the rules
        ("scrape_configs: [{job_name: a, static_configs: [{targets: ['http://u:pw@x/']}], "
         "relabel_configs: [{target_label: __address__, replacement: 'exporter:9115'}]}]", "holds userinfo"),
        ("scrape_configs: [{job_name: a, body_size_limit: 10 MB}]", "'10 MB' is not a size"),
        ("scrape_configs: [{job_name: a, basic_auth: {username: u}, bearer_token: t}]",
         "at most one of basic_auth & bearer_token must be configured"),
        ("scrape_configs: [{job_name: a, tls_config: {cert_file: c}}]", "needs both cert_file and key_file"),
        # label names are whole names: no prefix match, no trailing newline
        ("scrape_configs: [{job_name: a, static_configs: [{targets: ['x:1'], labels: {env-x: p}}]}]",
         "scrape_configs[0].static_configs[0].labels: 'env-x' is not a valid label name"),
        ('scrape_configs: [{job_name: a, static_configs: [{targets: ["x:1"], labels: {"env\\n": p}}]}]',
         "scrape_configs[0].static_configs[0].labels: 'env\\n' is not a valid label name"),
        ('scrape_configs: [{job_name: a, relabel_configs: [{source_labels: ["a\\n"], target_label: b}]}]',
         "scrape_configs[0].relabel_configs[0].source_labels: 'a\\n' is not a valid label name"),
        ('scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, modulus: 2, target_label: "b\\n"}]}]',
         "'b\\n' is invalid 'target_label' for hashmod action"),
        ("global: {scrape_timeout: never}", "global.scrape_timeout: 'never' is not a duration"),
        # found by fuzzing: an integer beyond any float raised OverflowError
        ("scrape_configs: [{job_name: a, scrape_interval: 1" + "0" * 400 + "}]", "is out of range"),
        ("global: {scrape_timeout: 1" + "0" * 400 + "}", "is out of range"),
        ("scrape_configs: [{static_configs: []}]", "scrape_configs[0].job_name: required key is missing"),
        ("scrape_configs: [{job_name: a, emf: {storage_resolution: 5}}]", "scrape_configs[0].emf.storage_resolution"),
        ("scrape_configs: [{job_name: a, sample_limit: -1}]", "scrape_configs[0].sample_limit: Input should be greater than or equal to 0"),
        ("- just a list", "expected a mapping with 'global' and 'scrape_configs'"),
        ("scrape_configs: [\n  {job_name: a\n", "not valid YAML"),
    ],
)
def test_bad_config_names_key_value_and_allowed(yaml_text: str, expected: str) -> None:
    # Given a config with one mistake, when parsed, then ConfigError names the key path,
    # the bad value and what is allowed.
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml_text, origin="scrape.yaml")
    assert expected in str(raised.value)
    assert str(raised.value).startswith("scrape.yaml")


def test_secrets_never_show_in_repr_or_errors() -> None:
    # Given credentials in the config, then neither the model's repr nor an error echoes them.
    config = parse_config(
        "scrape_configs: [{job_name: a, basic_auth: {username: u, password: hunter2}}]"
    )
    assert "hunter2" not in repr(config) and "hunter2" not in str(config.model_dump())
    with pytest.raises(ConfigError) as raised:
        parse_config("scrape_configs: [{job_name: a, basic_auth: {username: u, password: 123456789}}]")
    assert "123456789" not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        parse_config("scrape_configs: [{job_name: a, authorization: {type: Basic, credentials: s3cr3t-value}}]")
    assert "s3cr3t-value" not in str(raised.value)


def test_loader_caches_for_ttl(tmp_path: pytest.TempPathFactory) -> None:
    # Given a config file and a loader with a 60 s TTL on a fake clock,
    path = tmp_path / "scrape.yaml"  # type: ignore[operator]
    path.write_text("scrape_configs: [{job_name: a}]")
    now = [0.0]
    loader = ConfigLoader(ttl_seconds=60, clock=lambda: now[0])
    first = loader.load(str(path))
    # when the file changes within the TTL, then the cached config is returned;
    path.write_text("scrape_configs: [{job_name: b}]")
    now[0] = 59
    assert loader.load(str(path)) is first
    # after the TTL the new content is read.
    now[0] = 61
    assert loader.load(str(path)).scrape_configs[0].job_name == "b"


def test_loader_reports_missing_file_and_bad_s3_uri() -> None:
    # Given sources that cannot be read, then ConfigError says which and why.
    with pytest.raises(ConfigError, match=r"cannot read config file '/nonexistent/scrape\.yaml'"):
        ConfigLoader().load("/nonexistent/scrape.yaml")
    with pytest.raises(ConfigError, match="expected s3://bucket/key"):
        ConfigLoader(s3_client=object()).load("s3://bucket-only")


@pytest.mark.parametrize(("text", "seconds"), [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("0", 0),
                                               ("1d", 86400), ("2w", 14 * 86400)])
def test_durations(text: str, seconds: float) -> None:
    # Given Prometheus durations, then they read as seconds and print back the same way.
    assert parse_duration(text) == seconds
    if seconds and seconds < 86400:
        assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "1", "1m1h", "15 s", "-1s", "1.5s"])
def test_bad_durations(text: str) -> None:
    # Given text that is not a Prometheus duration, then it is refused.
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_sizes_are_base2() -> None:
    # Given Prometheus sizes, then KB/MB are powers of 1024 as in Prometheus (units.Base2Bytes).
    assert parse_size("10MB") == 10 * 1024**2
    assert parse_size("512KB") == 512 * 1024
    assert parse_size("0") == 0
    assert parse_size(100) == 100


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("[" * 100_000, "scrape.yaml: line 1: nested deeper than 64 levels"),
        ("scrape_configs:\n" + "  " * 40 + "- " * 100_000 + "x", "nested deeper than 64 levels"),
        ("x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
         + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True))
         + "global: {emf: {big: *g}}\n", "holds more than 1,000,000 values once its aliases are expanded"),
        ("scrape_configs: [{job_name: a, job_name: b}]", "scrape_configs[0]: duplicate key 'job_name'"),
        ("global: {scrape_interval: 1m}\nscrape_configs: []\nglobal: {}", "line 3: duplicate key 'global'"),
        ("scrape_configs: [{job_name: a, sample_limit: " + "9" * 5000 + "}]", "an integer of 5,000 characters"),
        ("scrape_configs: [{job_name: 2024-02-30}]", "line 1: the value cannot be read as timestamp"),
        ("scrape_configs:\n\t- job_name: a", "line 2: not valid YAML"),
    ],
    ids=["deep-flow", "deep-block", "alias-bomb", "duplicate-key", "duplicate-section", "huge-int", "no-such-date",
         "tab"],
)
def test_hostile_yaml_is_a_config_error(yaml_text: str, expected: str) -> None:
    # Given YAML that crashed the loader with a traceback (RecursionError, ValueError), was accepted
    # holding a billion-node structure, or silently lost a duplicate key, When parsed,
    # Then it is one ConfigError naming where.
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml_text, origin="scrape.yaml")
    assert expected in str(raised.value)
    assert str(raised.value).startswith("scrape.yaml: ")


def test_a_config_too_large_is_not_read_whole(tmp_path: pytest.TempPathFactory) -> None:
    # Given a 50 MB config (one huge value), When loaded from a file, Then it is refused by size.
    path = tmp_path / "scrape.yaml"  # type: ignore[operator]
    path.write_text("scrape_configs: [{job_name: '" + "x" * 50_000_000 + "'}]")
    with pytest.raises(ConfigError, match=r"scrape\.yaml: the document is larger than 4,194,304 bytes"):
        ConfigLoader().load(str(path))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0s", "must be greater than 0"),
        ("0", "must be greater than 0"),
        ("0ms", "must be greater than 0"),
        ("-1m", "is not a duration"),
        ("-5", "is not a duration"),
        (".nan", "is not a duration"),
        (".inf", "is not a duration"),
        ("1.0e+400", "is not a duration"),
        ("1e400", "is not a duration"),
        ("true", "is not a duration"),
        ("300y", "is out of range; expected a duration of at most 292y"),
        ("9" * 400 + "y", "is out of range"),
        ("[1m]", "is not a duration"),
    ],
)
@pytest.mark.parametrize("key", ["scrape_interval", "scrape_timeout"])
@pytest.mark.parametrize("section", ["global", "job"])
def test_intervals_and_timeouts_must_be_positive_durations(section: str, key: str, value: str, expected: str) -> None:
    # Given a zero, negative, NaN, infinite, huge or non-duration interval or timeout, globally or in a job,
    # When parsed, Then the key path, the value and what is expected are named (0s was accepted:
    # a job scraped with a 0 s timeout; Prometheus reads 0 as "unset", so leaving the key out is the way).
    if section == "global":
        text, path = f"global: {{{key}: {value}}}\nscrape_configs: [{{job_name: a}}]", f"global.{key}"
    else:
        text, path = f"scrape_configs: [{{job_name: a, {key}: {value}}}]", f"scrape_configs[0].{key}"
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    message = str(raised.value)
    assert f"{path}: " in message and expected in message
    assert message.count(": ") <= 3, message  # one problem, no cascade into other keys


def test_global_timeout_longer_than_interval_is_refused_and_the_default_shrinks() -> None:
    # Given a global timeout written longer than the global interval, Then it is refused (as Prometheus);
    with pytest.raises(ConfigError, match="global scrape timeout 1m is greater than scrape interval 30s"):
        parse_config("global: {scrape_interval: 30s, scrape_timeout: 1m}")
    # given only a short global interval, then the default timeout shrinks to it.
    config = parse_config("global: {scrape_interval: 5s}\nscrape_configs: [{job_name: a}]")
    assert (config.global_.scrape_timeout, config.scrape_configs[0].timeout) == (5.0, 5.0)


@pytest.mark.parametrize(
    ("yaml_text", "only"),
    [
        ("global: {bogus: 1}", "global.bogus: unknown key 'bogus'"),
        ("global: {scrape_interval: soon}", "global.scrape_interval: 'soon' is not a duration"),
        ("global: {scrape_interval: 0s}", "global.scrape_interval: must be greater than 0"),
        ("global: {scrape_interval: 30s, scrape_timeout: 1m}", "global: global scrape timeout 1m is greater"),
        ("global: {emf: {storage_resolution: 5}}", "global.emf.storage_resolution: storage_resolution: 5"),
        ("global: {emf: 5}", "global.emf: Input should be a valid dictionary"),
        ("global: [1]", "global: Input should be a valid dictionary"),
        ("global: {sample_limit: -1}", "global.sample_limit: Input should be greater than or equal to 0"),
        # the global interval is unknown: a job's own 2m timeout must not be compared with the default 1m
        ("global: {scrape_interval: soon}\nscrape_configs: [{job_name: a, scrape_timeout: 2m}]",
         "global.scrape_interval: 'soon' is not a duration"),
        ("scrape_configs: [{job_name: a, scrape_interval: 5 minutes}]",
         "scrape_configs[0].scrape_interval: '5 minutes' is not a duration"),
        ("scrape_configs: [{job_name: a, emf: 5}]", "scrape_configs[0].emf: Input should be a valid dictionary"),
        ("scrape_configs: [{job_name: a, emf: {storage_resolution: fast}}]",
         "scrape_configs[0].emf.storage_resolution: 'fast' is not a storage resolution"),
        ("scrape_configs: [{job_name: 123}]", "scrape_configs[0].job_name: Input should be a valid string"),
    ],
)
def test_one_mistake_is_reported_once(yaml_text: str, only: str) -> None:
    # Given one mistake (in global, or in a job) and jobs that are fine, When parsed, Then the
    # message holds that problem alone: no "scrape_configs[N].emf: required key is missing", no copy
    # of a global problem per job, no second message for the other member of a union.
    text = yaml_text if "scrape_configs" in yaml_text else (
        yaml_text + "\nscrape_configs: [{job_name: a, scrape_timeout: 50s}, {job_name: b, scrape_interval: 2m}]"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text, origin="scrape.yaml")
    problems = str(raised.value).removeprefix("scrape.yaml: ").split("; scrape_configs")
    assert len(problems) == 1 and only in problems[0], problems


def test_job_names_namespaces_cannot_hold_get_a_usable_default_namespace() -> None:
    # Given job names Prometheus accepts but a CloudWatch namespace cannot hold, When parsed,
    # Then the default namespace replaces those characters (no error about a key never written).
    config = parse_config("scrape_configs: [{job_name: 'api (blue)!'}, {job_name: 'cafe\u0301'}]")
    assert [job.emf.namespace for job in config.scrape_configs] == ["api _blue__", "cafe_"]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("body_size_limit: 1.5", "scrape_configs[0].body_size_limit: 1.5 is not a size"),
        ("body_size_limit: [1]", "scrape_configs[0].body_size_limit: [1] is not a size"),
        ("body_size_limit: true", "scrape_configs[0].body_size_limit: True is not a size"),
        ("body_size_limit: 9EB", "scrape_configs[0].body_size_limit: '9EB' is out of range"),
        ("sample_limit: true", "scrape_configs[0].sample_limit: is not a whole number"),
        ("label_limit: 18446744073709551616", "scrape_configs[0].label_limit: Input should be less than or equal"),
        ("emf: {series_retention_seconds: .inf}", "scrape_configs[0].emf.series_retention_seconds: Input should be a finite"),
    ],
)
def test_sizes_and_limits_are_numbers_in_range(setting: str, expected: str) -> None:
    # Given a size or limit of the wrong kind (a float or list crashed with AttributeError; true read as 1),
    # When parsed, Then ConfigError names the key and the value.
    with pytest.raises(ConfigError) as raised:
        parse_config(f"scrape_configs: [{{job_name: a, {setting}}}]")
    assert expected in str(raised.value)


def test_a_long_bad_value_is_cut_in_the_message() -> None:
    # Given a 100 000-character bad value, Then the message shows its start and length, not all of it.
    with pytest.raises(ConfigError) as raised:
        parse_config("scrape_configs: [{job_name: a, scheme: " + "h" * 100_000 + "}]")
    assert "scrape_configs[0].scheme" in str(raised.value) and "(100,000 characters)" in str(raised.value)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize(
    ("auth", "path"),
    [
        ('bearer_token: "s3cr3t\\r\\nX-Evil: 1"', "scrape_configs[0].bearer_token: holds a line break (CR or LF)"),
        ('bearer_token: "s3cr3t\\n"', "scrape_configs[0].bearer_token: holds a line break"),
        ('bearer_token: "s3cr3t\\0"', "scrape_configs[0].bearer_token: holds a control character (U+0000)"),
        ('bearer_token: "s3cr3t\\x7f"', "scrape_configs[0].bearer_token: holds a control character (U+007F)"),
        ('bearer_token: "s3cr3t\\u00e9"', "scrape_configs[0].bearer_token: holds a non-ASCII character"),
        ('authorization: {credentials: "s3cr3t\\r"}', "scrape_configs[0].authorization.credentials: holds a line"),
        ('authorization: {type: "Bearer\\n", credentials: s3cr3t}', "scrape_configs[0].authorization.type: holds a"),
        ("authorization: {type: Bearer s3cr3t}", "scrape_configs[0].authorization.type: is not one word"),
        ('authorization: "Bearer s3cr3t"', "scrape_configs[0].authorization: Input should be a valid dictionary"),
        ("basic_auth: admin:s3cr3t", "scrape_configs[0].basic_auth: Input should be a valid dictionary"),
        ('basic_auth: {username: u, password: "s3cr3t\\n"}', "scrape_configs[0].basic_auth.password: holds a line"),
        ('basic_auth: {username: "u\\x01s3cr3t", password: p}', "scrape_configs[0].basic_auth.username: holds a"),
        ('basic_auth: {username: "u:s3cr3t", password: p}', "scrape_configs[0].basic_auth.username: holds ':'"),
        ("basic_auth:\n    password: |\n      s3cr3t\n", "scrape_configs[0].basic_auth.password: holds a line break"),
    ],
)
def test_credentials_that_cannot_be_a_header_are_refused_unquoted(auth: str, path: str) -> None:
    # Given a credential an HTTP header cannot carry (requests' InvalidHeader would later log it),
    # When the config is loaded, Then it is refused naming the key, never quoting the value.
    with pytest.raises(ConfigError) as raised:
        parse_config(f"scrape_configs:\n- job_name: a\n  {auth}\n")
    assert path in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_credentials_that_fit_are_kept() -> None:
    # Given credentials with tabs, spaces, non-ASCII basic auth text and references, Then they load.
    config = parse_config("""
scrape_configs:
  - {job_name: a, basic_auth: {username: "j\u00f6rg", password: "p\u00e4ss word\\t1"}}
  - {job_name: b, authorization: {type: Token, credentials: "ssm:/prod/token"}}
  - {job_name: c, bearer_token: "eyJhbGciOi.eyJzdWIi.c2ln"}
""")
    assert [job.job_name for job in config.scrape_configs] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('static_configs: [{targets: ["h:1\\r\\n"]}]', "holds whitespace, a control character"),
        ('static_configs: [{targets: ["h:1\\t"]}]', "holds whitespace, a control character"),
        ("tls_config: {server_name: \"api\\r\\ninternal\"}", "scrape_configs[0].tls_config.server_name: 'api\\r\\ninternal' is not a host name"),
    ],
)
def test_addresses_and_host_names_hold_no_control_characters(setting: str, expected: str) -> None:
    # given a target address or TLS server name holding a control character or whitespace
    with pytest.raises(ConfigError) as raised:
        # when the config is parsed
        parse_config(f"scrape_configs: [{{job_name: a, {setting}}}]")
    # then it is refused naming the key and the value
    assert expected in str(raised.value)


@pytest.mark.parametrize(("value", "size"), [(0, 0), ("1KiB", 1024), ("8191PB", 8191 * 1024**5)])
def test_sizes_in_range(value: object, size: int) -> None:
    # given a size as a number or with a binary unit, when parsed, then it is the bytes it names
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [True, 1.5, None, "-1KB", "8EB", "9" * 30])
def test_sizes_out_of_range_or_of_the_wrong_kind(value: object) -> None:
    # given a boolean, a fraction, nothing, a negative or an overflowing size, when parsed, then it is refused
    with pytest.raises(ValueError, match=r"not a size|out of range"):
        parse_size(value)


def test_a_key_written_without_a_value_keeps_its_default() -> None:
    # Given sections written with no value (Prometheus reads them as unset; ``global:`` was refused),
    config = parse_config("global:\nscrape_configs:\n  - job_name: a\n    static_configs:\n    basic_auth:\n    emf:\n")
    # then each keeps its default.
    job = config.scrape_configs[0]
    assert (config.global_.scrape_interval, job.static_configs, job.basic_auth, job.emf.namespace) == (60.0, [], None, "a")


FILE_SD = "scrape_configs: [{job_name: n, file_sd_configs: [{files: [targets/t.json, /abs/u.json]}]}]"


def test_parse_config_touches_no_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a file system and working directory that must not be consulted
    def touched(*args: object, **kwargs: object) -> None:
        raise AssertionError("parse_config consulted the file system")

    # When a config file's text is parsed with the directory it came from (the traps set only
    # for the call: pytest itself resolves paths when it reports)
    with monkeypatch.context() as trapped:
        trapped.setattr(Path, "resolve", touched)
        trapped.setattr(Path, "absolute", touched)
        trapped.setattr("os.getcwd", touched)
        config = parse_config(FILE_SD, origin="conf/scrape.yaml", config_dir="/etc/promwatch")
    # Then relative target files are joined to that directory, absolute ones kept, nothing resolved
    (_, sd), = config.scrape_configs[0].sd_configs()
    assert sd.files == ["/etc/promwatch/targets/t.json", "/abs/u.json"]


def test_the_loader_resolves_a_config_files_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a config file given by a path relative to the working directory
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "scrape.yaml").write_text(FILE_SD)
    monkeypatch.chdir(tmp_path)
    # When the loader (the edge) reads it
    config = ConfigLoader().load("conf/scrape.yaml")
    # Then its relative target files are under the file's own directory, absolute
    (_, sd), = config.scrape_configs[0].sd_configs()
    assert sd.files == [str(tmp_path / "conf" / "targets" / "t.json"), "/abs/u.json"]
