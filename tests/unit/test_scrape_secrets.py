"""Credential references: SSM and Secrets Manager through injected clients, cached with a TTL."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from promwatch.scrape import SecretError, SecretResolver, parse_config
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
