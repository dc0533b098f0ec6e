"""Deterministic client order ids never change: a restarted fast path or a retried activity
finds its orders on the venues by the ids an earlier version sent."""

from __future__ import annotations

import base64
import hashlib

import pytest

from connectors.cex.client_order_id import LENGTH, PREFIX, client_order_id


def _from_the_whole_digest(intent_key: str) -> str:
    """The original derivation: base32 of all 32 bytes of the SHA-256, cut to the id's length."""
    body = base64.b32encode(hashlib.sha256(intent_key.encode()).digest()).decode().rstrip("=").lower()
    return PREFIX + body[: LENGTH - len(PREFIX)]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("order-42/0", "clexav6bdbi6m5ddlbia6w3ar6b37j7f"),
        ("binance0-17/1", "cljgmdgtq5wm757w6n75bmwskehwtcru"),
        ("wf-abc/leg", "clfottbqcp3zoduksydeypx2ln37rtri"),
    ],
)
def test_ids_are_the_ones_sent_before(key: str, expected: str) -> None:
    assert client_order_id(key) == expected


def test_every_id_is_the_whole_digests_prefix() -> None:
    for i in range(3000):
        key = f"parent-{i}/{i % 4}" if i % 2 else f"wf-{i * 7919}/step-{i}"
        cid = client_order_id(key)
        assert cid == _from_the_whole_digest(key), key
        assert len(cid) == LENGTH and cid.isalnum() and cid.islower()
