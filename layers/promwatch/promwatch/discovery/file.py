"""``file_sd_configs``: target groups from JSON or YAML files, as Prometheus reads them.

A file holds a list of ``{"targets": ["host:port", ...], "labels": {...}}``; each target gets
``__meta_filepath``. ``files`` are paths whose last element may hold a glob (``*.json``),
relative paths resolved against the directory of the scrape config (the config layer, ``/opt``,
in Lambda), or -- a promwatch extension -- ``s3://bucket/key`` objects. Lambda has no file
watch: files are read again after ``refresh_interval`` (default 5m, as Prometheus').
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from promwatch.discovery.base import DiscoveryEnv, SDConfig
from promwatch.discovery.groups import parse_target_groups
from promwatch.discovery.model import DiscoveryConfigError, DiscoveryError, TargetGroup
from promwatch.safeload import MAX_DOCUMENT_CHARS, DocumentError, decode_text, load_json, load_yaml
from promwatch.units import PositiveDuration

FILEPATH_LABEL = "__meta_filepath"
_SUFFIXES = (".json", ".yml", ".yaml")


class FileSDConfig(SDConfig):
    """A ``file_sd_configs`` entry."""

    files: list[str] = Field(min_length=1)
    refresh_interval: PositiveDuration = 300.0

    @field_validator("files")
    @classmethod
    def _known_formats(cls, files: list[str], info: ValidationInfo) -> list[str]:
        base = (info.context or {}).get("config_dir") if info.context else None
        resolved = []
        for name in files:
            if not name.startswith("s3://") and not name.endswith(_SUFFIXES):
                raise DiscoveryConfigError(f"{name!r}: expected a .json, .yml or .yaml file (or s3://bucket/key)")
            if name.startswith("s3://"):
                bucket, _, key = name[len("s3://"):].partition("/")
                if not bucket or not key or any(c in key for c in "*?["):
                    raise DiscoveryConfigError(f"{name!r} is not an S3 object URI; expected s3://bucket/key (no glob)")
            elif base and not os.path.isabs(name):
                name = str(Path(base) / name)
            if not name.startswith("s3://") and any(c in os.path.dirname(name) for c in "*?["):
                raise DiscoveryConfigError(f"{name!r}: a glob may only be in the last path element, as in Prometheus")
            resolved.append(name)
        return resolved

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """The groups of every file the patterns match now (a pattern matching nothing: none).

        Raises
        ------
        DiscoveryError
            Naming the file, when one cannot be read or is not a list of target groups.
        """
        groups: list[TargetGroup] = []
        for pattern in self.files:
            if pattern.startswith("s3://"):
                groups.extend(_groups(pattern, _read_s3(pattern, env)))
                continue
            for path in sorted(glob.glob(pattern)):
                try:
                    raw = Path(path).read_bytes()[: MAX_DOCUMENT_CHARS + 1]
                except OSError as exc:
                    raise DiscoveryError(f"file_sd: cannot read {path!r}: {exc.strerror or exc}") from None
                groups.extend(_groups(path, raw))
        return groups


def _read_s3(uri: str, env: DiscoveryEnv) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = uri[len("s3://"):].partition("/")
    try:
        body = env.aws_client("s3", None).get_object(Bucket=bucket, Key=key)["Body"]
        data: bytes = body.read(MAX_DOCUMENT_CHARS + 1)
    except (ClientError, BotoCoreError) as exc:
        raise DiscoveryError(f"file_sd: cannot read {uri!r}: {exc}") from None
    return data


def _groups(path: str, raw: bytes) -> list[TargetGroup]:
    """Parse one file's target groups (pure)."""
    try:
        text = decode_text(raw)
        data = load_json(text) if path.endswith(".json") else load_yaml(text)
    except DocumentError as exc:
        raise DiscoveryError(f"file_sd: {path!r}: {exc}") from None
    return parse_target_groups(data, where=f"file_sd: {path!r}", origin=path, meta={FILEPATH_LABEL: path})
