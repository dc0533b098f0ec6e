"""Scraping a Prometheus endpoint in tests."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

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
