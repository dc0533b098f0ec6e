"""Counters and gauges activities record through Temporal's metric meter: served with the
SDK's own metrics on the worker's Prometheus endpoint (names: crosslane.telemetry.names).
Outside an activity (the arbitrage fast lane calls the same steps) there is no meter: nothing
is recorded."""

from __future__ import annotations

from temporalio import activity


def count(name: str, description: str, **labels: str) -> None:
    """Add one to counter ``name`` with ``labels``."""
    if not activity.in_activity():
        return
    activity.metric_meter().create_counter(name, description).add(1, labels)


def gauge(name: str, description: str, value: int, **labels: str) -> None:
    """Set gauge ``name`` with ``labels`` to ``value``."""
    if not activity.in_activity():
        return
    activity.metric_meter().create_gauge(name, description).set(value, labels)
