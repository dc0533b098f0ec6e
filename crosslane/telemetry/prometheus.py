"""A process's own Prometheus endpoint (``prometheus_client``: the fast path, the scanner)."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from crosslane.config import Settings

log = logging.getLogger(__name__)


def serve_metrics(cfg: Settings) -> str | None:
    """Serve the default registry (ours plus process CPU and memory) on
    ``127.0.0.1:cfg.metrics_port`` in a daemon thread; its URL, None when unset."""
    if cfg.metrics_port is None:
        return None
    start_http_server(cfg.metrics_port, addr="127.0.0.1")
    return f"http://127.0.0.1:{cfg.metrics_port}/metrics"
