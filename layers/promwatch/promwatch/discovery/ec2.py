"""``ec2_sd_configs`` (and ``aws_sd_configs`` with ``role: ec2``): EC2 instances, as Prometheus lists them.

Every instance ``DescribeInstances`` returns for the ``filters`` (all states: filter on
``instance-state-name`` or relabel on ``__meta_ec2_instance_state`` to keep running ones) that
has a private IPv4 address or an IPv6 address is one target, ``<private ip>:<port>`` (the IPv6
address when it has no IPv4 one), with Prometheus' ``__meta_ec2_*`` labels. IAM:
``ec2:DescribeInstances``, and ``ec2:DescribeAvailabilityZones`` for
``__meta_ec2_availability_zone_id`` (without it the label is absent).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from promwatch.discovery.awsapi import (
    AwsApiSettings,
    api_client,
    aws_errors,
    client_region,
    put,
    put_fields,
    put_tags,
)
from promwatch.discovery.base import DiscoveryEnv
from promwatch.discovery.model import ADDRESS, TargetGroup, join_host_port

logger = logging.getLogger("promwatch.discovery")

PREFIX = "__meta_ec2_"
AVAILABILITY_ZONE = PREFIX + "availability_zone"
AVAILABILITY_ZONE_ID = PREFIX + "availability_zone_id"
DEFAULT_IPV6_ADDRESS = PREFIX + "default_ipv6_address"
INSTANCE_ID = PREFIX + "instance_id"
INSTANCE_STATE = PREFIX + "instance_state"
IPV6_ADDRESSES = PREFIX + "ipv6_addresses"
OWNER_ID = PREFIX + "owner_id"
PRIMARY_IPV6_ADDRESSES = PREFIX + "primary_ipv6_addresses"
PRIMARY_SUBNET_ID = PREFIX + "primary_subnet_id"
PRIVATE_IP = PREFIX + "private_ip"
PUBLIC_DNS_NAME = PREFIX + "public_dns_name"
PUBLIC_IP = PREFIX + "public_ip"
REGION = PREFIX + "region"
SUBNET_ID = PREFIX + "subnet_id"
TAG = PREFIX + "tag_"
VPC_ID = PREFIX + "vpc_id"
_INSTANCE_FIELDS = {"private_dns_name": "PrivateDnsName", "platform": "Platform", "ami": "ImageId",
                    "instance_type": "InstanceType", "instance_lifecycle": "InstanceLifecycle",
                    "architecture": "Architecture"}
"""The labels (after PREFIX) copied from a field of the instance, as Prometheus' EC2 discovery names them."""
SEPARATOR = ","
DESCRIBE_INSTANCES_PAGE_SIZE = 1000
"""Instances asked of each ``DescribeInstances`` call (``MaxResults``: EC2's largest page).
Without it EC2 answers with every instance at once, which over a large fleet "might be
throttled and could time out" (EC2 API guide, Pagination): past the AWS clients' read timeout."""


class Ec2Filter(BaseModel):
    """One ``DescribeInstances`` filter (``tag:env``, ``instance-state-name``, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    values: list[str] = Field(min_length=1)
    """At least one (Prometheus: "EC2 SD configuration filter values cannot be empty")."""


class Ec2SDConfig(AwsApiSettings):
    """An ``ec2_sd_configs`` entry."""

    filters: list[Ec2Filter] = Field(default_factory=list)

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """One group (named by the region) of every instance the filters select.

        Raises
        ------
        DiscoveryError
            When ``DescribeInstances`` fails (or the role cannot be assumed).
        """
        client = api_client(env, self, "ec2", endpoint=self.endpoint)
        region = client_region(client)
        reservations: list[Mapping[str, Any]] = []
        filters = [{"Name": f.name, "Values": f.values} for f in self.filters]
        with aws_errors(f"ec2:DescribeInstances in {region}"):
            pages = client.get_paginator("describe_instances").paginate(
                Filters=filters, PaginationConfig={"PageSize": DESCRIBE_INSTANCES_PAGE_SIZE})
            for page in pages:
                reservations.extend(page.get("Reservations", []))
        targets = instance_targets(reservations, region=region, port=self.port, zone_ids=_zone_ids(client))
        return [TargetGroup(source=region, targets=tuple(targets))]


def _zone_ids(client: Any) -> dict[str, str]:
    """Availability zone name -> zone ID (names map to zones differently in each account)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        zones = client.describe_availability_zones().get("AvailabilityZones", [])
    except (ClientError, BotoCoreError) as exc:
        logger.debug("ec2:DescribeAvailabilityZones failed, no __meta_ec2_availability_zone_id: %s", exc)
        return {}
    return {zone["ZoneName"]: zone["ZoneId"] for zone in zones if zone.get("ZoneName") and zone.get("ZoneId")}


def instance_targets(
    reservations: Iterable[Mapping[str, Any]], *, region: str, port: int, zone_ids: Mapping[str, str]
) -> list[dict[str, str]]:
    """The targets of ``DescribeInstances`` reservations (pure).

    Parameters
    ----------
    reservations
        ``Reservations`` of ``DescribeInstances`` pages, as the API returns them.
    region
        The ``__meta_ec2_region`` label.
    port
        The port of ``__address__``.
    zone_ids
        Availability zone name -> ID; a zone missing here gets no ``__meta_ec2_availability_zone_id``.

    Returns
    -------
    list of dict
        One label set per instance with an address, in the API's order.
    """
    targets = []
    for reservation in reservations:
        for instance in reservation.get("Instances", []):
            labels = _instance_labels(instance, reservation.get("OwnerId"), region, port, zone_ids)
            if labels is not None:
                targets.append(labels)
    return targets


def _instance_labels(
    instance: Mapping[str, Any], owner: str | None, region: str, port: int, zone_ids: Mapping[str, str]
) -> dict[str, str] | None:
    default_ipv6, primary_ipv6, all_ipv6 = _ipv6_addresses(instance)
    private_ip = instance.get("PrivateIpAddress")
    if not private_ip and default_ipv6 is None:
        return None
    labels = {INSTANCE_ID: instance["InstanceId"], REGION: region}
    put(labels, OWNER_ID, owner)
    put(labels, DEFAULT_IPV6_ADDRESS, default_ipv6)
    if private_ip:
        labels[PRIVATE_IP] = private_ip
        labels[ADDRESS] = join_host_port(private_ip, port)
    else:
        labels[ADDRESS] = join_host_port(str(default_ipv6), port)
    put_fields(labels, PREFIX, instance, _INSTANCE_FIELDS)
    if instance.get("PublicIpAddress"):
        labels[PUBLIC_IP] = instance["PublicIpAddress"]
        put(labels, PUBLIC_DNS_NAME, instance.get("PublicDnsName"))
    if primary_ipv6:
        labels[PRIMARY_IPV6_ADDRESSES] = _listed(primary_ipv6)
    if all_ipv6:
        labels[IPV6_ADDRESSES] = _listed(all_ipv6)
    zone = instance.get("Placement", {}).get("AvailabilityZone")
    put(labels, AVAILABILITY_ZONE, zone)
    put(labels, AVAILABILITY_ZONE_ID, zone_ids.get(zone or ""))
    put(labels, INSTANCE_STATE, instance.get("State", {}).get("Name"))
    if instance.get("VpcId"):
        labels[VPC_ID] = instance["VpcId"]
        put(labels, PRIMARY_SUBNET_ID, instance.get("SubnetId"))
        subnets = [eni["SubnetId"] for eni in instance.get("NetworkInterfaces", []) if eni.get("SubnetId")]
        labels[SUBNET_ID] = _listed(list(dict.fromkeys(subnets)))  # once each, in the API's order
    put_tags(labels, TAG, instance.get("Tags", []))
    return labels


def _ipv6_addresses(instance: Mapping[str, Any]) -> tuple[str | None, list[str], list[str]]:
    """(default address, primary addresses by device index, every address), as Prometheus picks them.

    The primary list keeps an empty entry for a device without a primary IPv6 address, so that
    a position is a device index.
    """
    primary: list[str] = []
    every: list[str] = []
    if not instance.get("VpcId"):
        return None, primary, every
    for eni in instance.get("NetworkInterfaces", []):
        if not eni.get("SubnetId"):
            continue
        for entry in eni.get("Ipv6Addresses", []):
            address = entry.get("Ipv6Address")
            if not address:
                continue
            every.append(address)
            if entry.get("IsPrimaryIpv6"):
                index = int(eni.get("Attachment", {}).get("DeviceIndex", 0))
                primary.extend([""] * (index + 1 - len(primary)))
                primary[index] = address
    default = next((address for address in (*primary, *every) if address), None)
    return default, primary, every


def _listed(values: list[str]) -> str:
    """``,a,b,``: Prometheus' list label, so that a regex can match ``.*,a,.*``."""
    return SEPARATOR + SEPARATOR.join(values) + SEPARATOR
