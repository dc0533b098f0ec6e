"""The worker's telemetry: the Temporal SDK's Prometheus endpoint and OpenTelemetry traces.

The SDK's runtime serves its own metrics (workflow/activity task latencies, slots, polls)
and the ones workflows and activities record through ``workflow.metric_meter()`` and
``activity.metric_meter()`` (:mod:`crosslane.telemetry.names`) on one loopback port.

Traces: Temporal's ``TracingInterceptor`` creates a span per workflow run and per activity
and child workflow it starts, the context carried in Temporal headers, so a workflow, its
activities and its children share one trace. Spans go to a file, one JSON object a line.
A workflow started by a client without tracing (the CLI) carries no context: it gets one
derived from its workflow and run ids (:class:`RootedTracing`), the same on every replay,
so its spans form one trace even when another worker resumes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import WorkflowInterceptorClassInput, WorkflowOutboundInterceptor

from crosslane.config import Settings


def temporal_runtime(cfg: Settings) -> Runtime | None:
    """A runtime serving Prometheus metrics on ``cfg.metrics_host:cfg.metrics_port``; None when
    unset (the SDK's default runtime: no endpoint)."""
    if cfg.metrics_port is None:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"{cfg.metrics_host}:{cfg.metrics_port}",
                counters_total_suffix=True,  # as prometheus_client names them: one dashboard for both
                durations_as_seconds=True,
            )
        )
    )


def _one_line(span: ReadableSpan) -> str:
    return span.to_json(indent=None) + "\n"


class _RootedWorkflowTracing(TracingWorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(outbound)
        info = outbound.info()  # workflow.info() is not ready before init returns
        if self.header_key not in info.headers:
            digest = hashlib.sha256(f"{info.workflow_id}/{info.run_id}".encode()).hexdigest()
            self._workflow_context_carrier = {"traceparent": f"00-{digest[:32]}-{digest[32:48]}-01"}


class RootedTracing(TracingInterceptor):
    """Temporal's tracing interceptor; a run started without a trace context gets a
    deterministic one (its parent span is virtual: the run's first span is the trace's root)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)
        return _RootedWorkflowTracing


def tracing_interceptor(cfg: Settings, service: str = "crosslane-worker") -> TracingInterceptor | None:
    """Spans of every workflow run and of its activities and children, appended to
    ``cfg.traces_file``; None when unset."""
    if cfg.traces_file is None:
        return None
    cfg.traces_file.parent.mkdir(parents=True, exist_ok=True)
    out = cfg.traces_file.open("a", buffering=1)  # noqa: SIM115 - lives as long as the process
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(ConsoleSpanExporter(out=out, formatter=_one_line), schedule_delay_millis=500)
    )
    return RootedTracing(provider.get_tracer("crosslane"))


def read_spans(path: Path) -> Iterator[dict[str, Any]]:
    """The spans a traces file holds, as the exporter wrote them."""
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                yield json.loads(line)
