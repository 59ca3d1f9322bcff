"""``static_configs``: targets written in the config, and the labels they all get."""
from __future__ import annotations

from pydantic import Field, field_validator

from promwatch.httpclient.config import ConfigSection
from promwatch.httpclient.errors import InvalidTargetError
from promwatch.httpclient.url import parse_authority
from promwatch.labelnames import check_label_name
from promwatch.scrape.errors import ConfigValueError
from promwatch.scrape.relabel import ScalarText

__all__ = ["StaticConfig"]


def _relabel_input(target: str) -> bool:
    """Whether a static target that is not ``host:port`` can still be one after relabelling:
    a URL or a path (a blackbox exporter's module targets, moved to ``__param_target`` by
    relabel_configs), never one holding userinfo, whitespace or control characters."""
    return ("@" not in target and target.isascii() and not any(c <= " " or c in "\\\x7f" for c in target)
            and any(c in target for c in "/?#"))


class StaticConfig(ConfigSection):
    """A ``static_configs`` entry: targets (``host:port``) and labels they all get."""

    targets: list[str] = Field(default_factory=list)
    labels: dict[str, ScalarText] = Field(default_factory=dict)

    @field_validator("targets")
    @classmethod
    def _targets_are_addresses(cls, value: list[str]) -> list[str]:
        for target in value:
            try:
                parse_authority(target)
            except InvalidTargetError as exc:
                if not _relabel_input(target):
                    raise ConfigValueError(str(exc)) from None
        return value

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            check_label_name(name)
        return value
