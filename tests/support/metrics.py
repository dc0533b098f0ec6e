"""Scraping a Prometheus endpoint and reading a traces file in tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from crosslane.telemetry.temporal import read_spans

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, response.status
        text = await response.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (a counter's samples
    may carry a ``_total`` suffix)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n in (name, f"{name}_total") and want <= ls)


async def span_names(path: Path, contains: str, timeout_s: float = 10.0) -> list[str]:
    """Names of the spans in a traces file that contain ``contains``, waiting for the
    exporter's next batch while there is none."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        names = [s["name"] for s in read_spans(path) if contains in s["name"]]
        if names or asyncio.get_running_loop().time() > deadline:
            return names
        await asyncio.sleep(0.25)
