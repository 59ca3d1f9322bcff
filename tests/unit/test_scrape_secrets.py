"""Credential references: SSM and Secrets Manager through injected clients, cached with a TTL."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from promwatch.httpclient import SecretError, SecretResolver
from promwatch.scrape import parse_config
from promwatch.scrape.request import authorization_header, fetch_request
from promwatch.scrape.targets import build_targets
from pydantic import SecretStr


class FakeSsm:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Parameter": {"Value": f"value-of-{kwargs['Name']}"}}


class FakeSecrets:
    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["SecretId"] == "binary":
            return {"SecretBinary": b"\x00"}
        return {"SecretString": "sm-token"}


def test_references_resolve_and_are_cached_for_the_ttl() -> None:
    # Given an SSM reference and a resolver with a 60 s TTL on a fake clock,
    ssm = FakeSsm()
    now = [0.0]
    resolver = SecretResolver(ssm_client=ssm, secrets_client=FakeSecrets(), ttl_seconds=60, clock=lambda: now[0])
    # when resolved twice within the TTL and once after,
    assert resolver.value(SecretStr("ssm:/p/pw")) == "value-of-/p/pw"
    assert resolver.value(SecretStr("ssm:/p/pw")) == "value-of-/p/pw"
    now[0] = 61
    resolver.value(SecretStr("ssm:/p/pw"))
    # then SSM was asked twice, with decryption; plain values and Secrets Manager work too.
    assert ssm.calls == [{"Name": "/p/pw", "WithDecryption": True}] * 2
    assert resolver.value(SecretStr("plain")) == "plain"
    assert resolver.value(SecretStr("secretsmanager:token")) == "sm-token"


def test_binary_secret_and_missing_file_name_the_reference_not_the_value(tmp_path: Path) -> None:
    # Given a binary secret and a missing file, then SecretError names the reference.
    resolver = SecretResolver(secrets_client=FakeSecrets())
    with pytest.raises(SecretError, match="'secretsmanager:binary' has no SecretString"):
        resolver.value(SecretStr("secretsmanager:binary"))
    with pytest.raises(SecretError, match="cannot read credentials file"):
        resolver.file(str(tmp_path / "missing"))


def test_authorization_forms_and_tls_settings(tmp_path: Path) -> None:
    # Given each way Prometheus takes credentials, then the header is the one Prometheus sends.
    token = tmp_path / "token"
    token.write_text("file-token\n")
    config = parse_config(f"""
scrape_configs:
  - {{job_name: a, authorization: {{type: Token, credentials: abc}}}}
  - {{job_name: b, bearer_token: xyz}}
  - {{job_name: c, bearer_token_file: {token}}}
  - {{job_name: d, authorization: {{credentials_file: {token}}}}}
  - {{job_name: e, static_configs: [{{targets: ['h:1']}}], tls_config: {{ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: api.internal}}}}
  - {{job_name: f, static_configs: [{{targets: ['h:1']}}], tls_config: {{insecure_skip_verify: true}}}}
""")
    resolver = SecretResolver()
    headers = [authorization_header(job, resolver) for job in config.scrape_configs]
    assert headers == ["Token abc", "Bearer xyz", "Bearer file-token", "Bearer file-token", None, None]
    tls_job = config.scrape_configs[4]
    request = fetch_request(tls_job, build_targets(tls_job)[0][0], resolver)
    assert (request.verify, request.client_cert, request.server_name) == ("/ca.pem", ("/c.pem", "/k.pem"), "api.internal")
    insecure = config.scrape_configs[5]
    assert fetch_request(insecure, build_targets(insecure)[0][0], resolver).verify is False
    # and a request's repr never shows its headers.
    assert "Token" not in repr(fetch_request(config.scrape_configs[0], build_targets(tls_job)[0][0], resolver))


class StoredValues:
    """SSM and Secrets Manager clients holding given values."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
        return {"Parameter": {"Value": self.values[kwargs["Name"]]}}

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        return {"SecretString": self.values[kwargs["SecretId"]]}


def test_a_credentials_file_is_trimmed_as_prometheus_trims_it(tmp_path: Path) -> None:
    # Given token files ending in a newline (CRLF too) and padded with spaces, Then the token is
    # the content without surrounding whitespace (Prometheus: strings.TrimSpace).
    for content in ("tok-123\n", "tok-123\r\n", "  tok-123 \n\n"):
        (tmp_path / "token").write_text(content, newline="")
        job = parse_config(f"scrape_configs: [{{job_name: a, bearer_token_file: {tmp_path / 'token'}}}]").scrape_configs[0]
        assert authorization_header(job, SecretResolver()) == "Bearer tok-123"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("s3cr3t\nX-Evil: 1", "holds a line break (CR or LF)"),
        ("s3cr3t\rmore", "holds a line break (CR or LF)"),
        ("s3cr3t\x00", "holds a control character (U+0000)"),
        ("s3cr3t\u00e9", "holds a non-ASCII character"),
    ],
)
@pytest.mark.parametrize("setting", ["bearer_token_file", "authorization: {credentials_file"])
def test_a_credentials_file_a_header_cannot_carry_is_refused_unquoted(
    tmp_path: Path, setting: str, content: str, kind: str
) -> None:
    # Given a credentials file whose content (once trimmed) still holds what a header cannot carry,
    # When the header is built, Then SecretError names the job and the file, never the content.
    path = tmp_path / "token"
    path.write_text(content, newline="")
    auth = f"{setting}: {path}" + ("}" if "{" in setting else "")
    job = parse_config(f"scrape_configs: [{{job_name: web, {auth}}}]").scrape_configs[0]
    with pytest.raises(SecretError) as raised:
        authorization_header(job, SecretResolver())
    assert str(raised.value) == f"job 'web': credentials file {str(path)!r} {kind}; expected printable ASCII, as an HTTP header value"


def test_basic_auth_files_and_references_are_checked(tmp_path: Path) -> None:
    # Given a username file with a colon and a password reference holding a line break,
    # When the header is built, Then each is refused naming its source, not its value.
    username = tmp_path / "user"
    username.write_text("svc:s3cr3t\n")
    stored = StoredValues({"/prod/pw": "s3cr3t\n", "pw": "pa\u00dfword"})
    resolver = SecretResolver(ssm_client=stored, secrets_client=stored)
    config = parse_config(f"""
scrape_configs:
  - {{job_name: a, basic_auth: {{username_file: {username}, password: x}}}}
  - {{job_name: b, basic_auth: {{username: svc, password: "ssm:/prod/pw"}}}}
  - {{job_name: c, basic_auth: {{username: svc, password: "secretsmanager:pw"}}}}
""")
    with pytest.raises(SecretError, match=rf"job 'a': credentials file '{username}' holds ':'") as first:
        authorization_header(config.scrape_configs[0], resolver)
    # A reference's value is used as stored (as Prometheus uses a referenced secret): no trimming.
    with pytest.raises(SecretError, match=r"job 'b': secret 'ssm:/prod/pw' holds a line break") as second:
        authorization_header(config.scrape_configs[1], resolver)
    assert "s3cr3t" not in str(first.value) + str(second.value)
    # Basic auth is base64 of UTF-8: non-ASCII text is fine there.
    expected = base64.b64encode("svc:pa\u00dfword".encode()).decode()
    assert authorization_header(config.scrape_configs[2], resolver) == f"Basic {expected}"


@pytest.mark.parametrize("setting", ["bearer_token", "authorization: {credentials"])
def test_a_reference_a_header_cannot_carry_is_refused_unquoted(setting: str) -> None:
    # given an SSM secret holding a line break, used as a bearer token or authorization credentials
    stored = StoredValues({"/prod/token": "s3cr3t\r\nX-Evil: 1"})
    auth = f'{setting}: "ssm:/prod/token"' + ("}" if "{" in setting else "")
    # and a job using it
    job = parse_config(f"scrape_configs: [{{job_name: web, {auth}}}]").scrape_configs[0]
    # when the authorization header is made
    with pytest.raises(SecretError) as raised:
        authorization_header(job, SecretResolver(ssm_client=stored))
    # then it is refused saying the secret holds a line break
    assert str(raised.value).startswith("job 'web': secret 'ssm:/prod/token' holds a line break (CR or LF)")
    # and the secret's value is not in the message
    assert "s3cr3t" not in str(raised.value)


def test_a_credentials_file_that_is_not_utf8_is_a_secret_error(tmp_path: Path) -> None:
    # Given a binary token file (a UnicodeDecodeError traceback before), Then SecretError names it.
    path = tmp_path / "token"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SecretError, match=rf"credentials file '{path}': byte 0 is not UTF-8"):
        SecretResolver().file(str(path))
