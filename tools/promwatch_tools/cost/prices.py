"""The one table of prices ``promwatch cost`` uses: us-east-1, on-demand, list prices.

Taken on 2026-12-05 from the stored copies of the pages named in :data:`SOURCES` (no live web
here). The AWS pricing pages themselves (aws.amazon.com/cloudwatch/pricing, /lambda/pricing,
...) are stored without their tabbed price tables, so most figures come from third-party pages
that quote them, and say so. Free tiers are not subtracted. ``CONFIRMED`` is False for the
price no source here gave: CloudWatch's OpenTelemetry metrics per-GB ingestion price (AWS's
page says it is per GB and points at the pricing page, whose stored copy has no figure); the
value used is the CloudWatch Logs standard ingestion price, as an assumption to override.
Override any price with ``promwatch cost --prices FILE`` (YAML or JSON, keys as below).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promwatch_tools.cost.errors import PricesError

REGION = "us-east-1"
TAKEN_ON = "2026-12-05"

# CloudWatch custom metrics, per metric-month, by tier of the account's total metrics.
METRIC_TIERS: tuple[tuple[float, float], ...] = (
    (10_000, 0.30),
    (240_000, 0.10),
    (750_000, 0.05),
    (float("inf"), 0.02),
)


@dataclass(frozen=True, slots=True)
class Prices:
    """USD list prices (us-east-1). Field names are the keys of ``--prices``."""

    metric_month_tier1: float = 0.30
    """Custom metric, per month, first 10,000 metrics."""
    metric_month_tier2: float = 0.10
    """Next 240,000."""
    metric_month_tier3: float = 0.05
    """Next 750,000."""
    metric_month_tier4: float = 0.02
    """Over 1,000,000."""
    logs_ingestion_gb: float = 0.50
    """CloudWatch Logs standard class, per GB ingested (EMF documents)."""
    logs_storage_gb_month: float = 0.03
    """CloudWatch Logs archive storage, per GB-month (compressed)."""
    otel_metrics_ingestion_gb: float = 0.50
    """CloudWatch OpenTelemetry metrics, per GB ingested (NOT CONFIRMED: see the module docstring)."""
    lambda_request: float = 0.20e-6
    """Lambda, per request."""
    lambda_gb_second_arm64: float = 0.0000133334
    """Lambda duration, arm64 (the template's architecture), per GB-second, first tier."""
    lambda_gb_second_x86_64: float = 0.0000166667
    """Lambda duration, x86_64, per GB-second, first tier."""
    dynamodb_write_request_unit: float = 0.625e-6
    """DynamoDB on-demand, per write request unit (1 KB)."""
    dynamodb_read_request_unit: float = 0.125e-6
    """DynamoDB on-demand, per read request unit (4 KB strongly consistent)."""
    sqs_request: float = 0.40e-6
    """SQS standard queue, per request (each 64 KB chunk of a payload is one)."""
    sidecar_vcpu_hour: float = 0.04048
    """The ADOT sidecar's CPU: Fargate Linux/x86, per vCPU-hour (for EKS on EC2, put a node's price per vCPU)."""
    sidecar_gb_hour: float = 0.004445
    """The ADOT sidecar's memory: Fargate Linux/x86, per GB-hour (on EC2, a node's price per GB)."""

    def metric_tiers(self) -> tuple[tuple[float, float], ...]:
        """(metrics in the tier, price) from the first tier up."""
        prices = (self.metric_month_tier1, self.metric_month_tier2, self.metric_month_tier3, self.metric_month_tier4)
        return tuple((size, price) for (size, _), price in zip(METRIC_TIERS, prices, strict=True))


SOURCES: dict[str, str] = {
    "metric_month_tier1": "https://c3x.dev/blog/aws-cloudwatch-metrics-cost/ ($0.30/metric/month, first 10k); "
                          "https://www.vantage.sh/blog/cloudwatch-metrics-pricing-explained-in-plain-english",
    "metric_month_tier2": "https://cal53.calculator.city/cloudwatch-custom-metrics-calculator/ ($0.10 beyond 10k); "
                          "vantage.sh (tiers 240k / 750k / over 1M)",
    "metric_month_tier3": "https://www.vantage.sh/blog/cloudwatch-metrics-pricing-explained-in-plain-english",
    "metric_month_tier4": "https://www.vantage.sh/blog/cloudwatch-metrics-pricing-explained-in-plain-english",
    "logs_ingestion_gb": "https://c3x.dev/blog/cloudwatch-logs-cost-optimization (us-east-1, June 2026); "
                         "https://hykell.com/knowledge-base/aws-cloudwatch-logs-pricing",
    "logs_storage_gb_month": "https://c3x.dev/blog/cloudwatch-logs-cost-optimization; hykell.com (as above)",
    "otel_metrics_ingestion_gb": "NOT CONFIRMED: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
                                 "metrics-otel-pricing.html says per GB ingested, no figure; assumed equal to "
                                 "logs_ingestion_gb",
    "lambda_request": "https://cloudchipr.com/blog/aws-lambda-pricing; lambda_local_runner docs (lambda-13-cost.md)",
    "lambda_gb_second_arm64": "https://cloudchipr.com/blog/aws-lambda-pricing (arm64, first 7.5 billion GB-s)",
    "lambda_gb_second_x86_64": "https://cloudchipr.com/blog/aws-lambda-pricing (x86, first 6 billion GB-s)",
    "dynamodb_write_request_unit": "https://airbyte.com/data-engineering-resources/dynamodb-pricing (on-demand, "
                                   "after AWS's November 2024 halving; older pages quote $1.25/M)",
    "dynamodb_read_request_unit": "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
    "sqs_request": "https://cloudburn.io/blog/amazon-sqs-pricing; https://unanswered.io/guide/"
                   "aws-sqs-pricing-and-cost-optimization (64 KB chunks)",
    "sidecar_vcpu_hour": "https://www.vantage.sh/blog/fargate-pricing (Linux/x86, us-east-1); "
                         "https://www.wring.co/blog/aws-fargate-pricing-guide",
    "sidecar_gb_hour": "https://www.vantage.sh/blog/fargate-pricing",
}
"""Where each price was read (stored copies, taken on :data:`TAKEN_ON`)."""

CONFIRMED: dict[str, bool] = {name: not source.startswith("NOT CONFIRMED") for name, source in SOURCES.items()}


def override(prices: Prices, values: Mapping[str, Any], *, origin: str) -> Prices:
    """``prices`` with ``values`` replacing the prices they name.

    Raises
    ------
    PricesError
        For an unknown name or a value that is not a non-negative number.
    """
    known = {f.name for f in dataclasses.fields(Prices)}
    changes: dict[str, float] = {}
    for name, value in values.items():
        if name not in known:
            raise PricesError(f"{origin}: unknown price {name!r}; expected one of {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PricesError(f"{origin}: price {name!r} is {value!r}; expected a number >= 0 (USD)")
        changes[name] = float(value)
    return dataclasses.replace(prices, **changes)


def load_prices(path: str | Path) -> Prices:
    """The default prices with the overrides of a YAML or JSON file (a mapping name -> USD).

    Raises
    ------
    PricesError
        When the file cannot be read or parsed, or holds an unknown name or a bad value.
    """
    from promwatch.errors import PromwatchError
    from promwatch.safeload import load_yaml, read_text

    try:
        data = load_yaml(read_text(path))  # JSON is YAML
    except OSError as exc:
        raise PricesError(f"{path}: cannot be read ({exc.strerror})") from None
    except PromwatchError as exc:
        raise PricesError(f"{path}: {exc}") from None
    if not isinstance(data, Mapping):
        raise PricesError(f"{path}: expected a mapping of price names to USD, got {type(data).__name__}")
    return override(Prices(), data, origin=str(path))
