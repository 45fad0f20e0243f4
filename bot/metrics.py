"""Prometheus metrics, one registry per running app (tests build several apps)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries_received = Counter(
            "cf_deliveries_received", "Webhook deliveries accepted and stored", ["event"], registry=r)
        self.deliveries_duplicate = Counter(
            "cf_deliveries_duplicate", "Deliveries acknowledged again (same X-GitHub-Delivery)", registry=r)
        self.deliveries_rejected = Counter(
            "cf_deliveries_rejected", "Webhook requests refused", ["reason"], registry=r)
        self.deliveries_processed = Counter(
            "cf_deliveries_processed", "Deliveries processed to the end", ["event"], registry=r)
        self.deliveries_failed = Counter(
            "cf_deliveries_failed", "Delivery attempts that failed (will be retried)", ["event"], registry=r)
        self.deliveries_dead = Counter(
            "cf_deliveries_dead", "Deliveries given up after the configured attempts", ["event"], registry=r)
        self.intake_bytes_in_flight = Gauge(
            "cf_intake_bytes_in_flight", "Webhook body bytes held before their signature is checked",
            registry=r)
        self.queue_depth = Gauge(
            "cf_queue_depth", "Deliveries waiting or being processed", registry=r)
        self.handler_seconds = Histogram(
            "cf_handler_seconds", "Feature handler latency", ["feature"], registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.github_calls = Counter(
            "cf_github_calls", "GitHub API calls by endpoint and status", ["endpoint", "status"], registry=r)
        self.rate_limit_remaining_gauge = Gauge(
            "cf_github_rate_limit_remaining", "x-ratelimit-remaining last seen", ["installation"], registry=r)
        self.actions_executed = Counter(
            "cf_actions_executed", "Actions performed by the executor", ["kind", "outcome"], registry=r)
        self.redeliveries = Counter(
            "cf_redeliveries", "Redeliveries of missed deliveries asked of GitHub", ["outcome"],
            registry=r)
        self.jobs_run = Counter(
            "cf_jobs_run", "Periodic jobs run", ["job", "outcome"], registry=r)

    # Small verbs so adapters need not know prometheus_client.
    def github_call(self, endpoint: str, status: int | str) -> None:
        self.github_calls.labels(endpoint=endpoint, status=str(status)).inc()

    def rate_limit_remaining(self, value: int, installation: str = "app") -> None:
        self.rate_limit_remaining_gauge.labels(installation=installation).set(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)
