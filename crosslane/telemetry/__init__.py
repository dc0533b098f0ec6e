"""Metrics and traces: Prometheus endpoints on loopback and OpenTelemetry spans to a file."""
