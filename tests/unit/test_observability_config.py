"""The Grafana dashboard and the Prometheus scrape configs match what the code exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from crosslane.config import Settings
from crosslane.telemetry import names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "observability" / "grafana" / "dashboards" / "crosslane.json"
DECLARED = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]


def test_every_crosslane_metric_on_the_dashboard_is_one_the_code_records() -> None:
    found = (m for e in dashboard_exprs() for m in re.findall(r"crosslane_\w+", e))
    used = {re.sub(r"_(total|bucket|count|sum)$", "", m) for m in found}
    assert used, "the dashboard shows none of Crosslane's metrics"
    assert used <= DECLARED, f"on the dashboard but recorded nowhere: {sorted(used - DECLARED)}"
    assert used >= DECLARED, f"recorded but not on the dashboard: {sorted(DECLARED - used)}"


def test_scrape_configs_reach_the_ports_the_services_serve_on(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    worker_port = compose["services"]["worker"]["environment"]["CROSSLANE_METRICS_PORT"]
    prod = yaml.safe_load((ROOT / "observability" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prod["scrape_configs"]}
    assert jobs["crosslane-worker"]["dns_sd_configs"][0]["port"] == int(worker_port)
    assert compose["services"]["temporal"]["environment"]["PROMETHEUS_ENDPOINT"].endswith(":8000")
    assert jobs["temporal-server"]["static_configs"][0]["targets"] == ["temporal:8000"]
    dev = yaml.safe_load((ROOT / "observability" / "prometheus-dev.yml").read_text())
    targets = {j["job_name"]: j["static_configs"][0]["targets"][0] for j in dev["scrape_configs"]}
    monkeypatch.delenv("CROSSLANE_METRICS_PORTS", raising=False)
    defaults = Settings().metrics_ports  # what `dev up` gives each service unless told otherwise
    assert targets == {f"crosslane-{s}": f"127.0.0.1:{p}" for s, p in defaults.items()}
