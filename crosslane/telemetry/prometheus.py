"""A process's own Prometheus endpoint (``prometheus_client``: the fast path, the scanner)."""

from __future__ import annotations

from prometheus_client import start_http_server

from crosslane.config import Settings


def serve_metrics(cfg: Settings) -> str | None:
    """Serve the default registry (ours plus process CPU and memory) on
    ``cfg.metrics_host:cfg.metrics_port`` in a daemon thread; its URL, None when unset."""
    if cfg.metrics_port is None:
        return None
    start_http_server(cfg.metrics_port, addr=cfg.metrics_host)
    return f"http://{cfg.metrics_host}:{cfg.metrics_port}/metrics"
