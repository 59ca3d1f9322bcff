"""promwatch: Prometheus metrics and Container Insights logs into Amazon CloudWatch, serverless."""
from __future__ import annotations

from promwatch.errors import PromwatchError, PromwatchValueError

__all__ = ["PromwatchError", "PromwatchValueError", "__version__"]
__version__ = "0.1.0"
