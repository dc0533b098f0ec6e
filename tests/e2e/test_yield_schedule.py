"""A compounding schedule made with `crosslane schedule compound`, managed from both CLIs:
it fires on its interval, pauses with a note, skips a triggered run that would overlap one
still going, backfills, and `temporal schedule list/describe` see it with its memo. A
position the chain does not show staked (unknown farm, LP tokens not staked, NFT not the
owner's) is refused with the reason, and no schedule is created."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from devnet.anvil import REPO_ROOT
from tests.support.farm import CHAIN, farm_owner
from tests.support.stack import Stack, running_worker, temporal_client, unique_queue

pytestmark = pytest.mark.timeout(240)

BIN = REPO_ROOT / ".venv" / "bin"


def _crosslane(stack: Stack, queue: str, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "crosslane"), "schedule", *args], env=stack.env(queue), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _temporal(stack: Stack, *args: str) -> Any:
    done = subprocess.run(
        [str(BIN / "temporal"), "schedule", *args, "--address", stack.temporal_address, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else done.stdout


def _info(described: dict[str, Any]) -> dict[str, Any]:
    return described.get("info", {})


async def _wait_runs_closed(stack: Stack, schedule_id: str, at_least: int) -> list[Any]:
    client = await temporal_client(stack)
    query = f"TemporalScheduledById = '{schedule_id}'"
    for _ in range(240):
        runs = [r async for r in client.list_workflows(query)]
        closed = [r for r in runs if r.close_time is not None]
        if len(closed) >= at_least and len(closed) == len(runs):
            return runs
        await asyncio.sleep(0.5)
    raise AssertionError(f"{schedule_id}: fewer than {at_least} closed runs: {runs}")


async def test_the_cli_schedule_fires_skips_overlaps_pauses_and_backfills(stack: Stack) -> None:
    owner, _ = farm_owner(stack)
    queue = unique_queue("schedule")
    sid = f"compound-test-{owner.address[2:10].lower()}"
    refused = subprocess.run(
        [str(BIN / "crosslane"), "schedule", "compound", "--chain", CHAIN, "--owner", owner.address,
         "--position", "sushiswap:masterchef:0", "--every", "30s", "--id", sid],
        env=stack.env(queue), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "interval 30 s is outside 60 s (one minute)" in refused.stderr
    _crosslane(
        stack, queue, "compound", "--chain", CHAIN, "--owner", owner.address, "--position",
        "sushiswap:masterchef:0", "--every", "1m", "--jitter", "1s", "--id", sid,
    )  # fmt: skip
    described = _temporal(stack, "describe", "--schedule-id", sid)
    schedule = described["schedule"]
    assert schedule["policies"]["overlapPolicy"] == "SCHEDULE_OVERLAP_POLICY_SKIP"
    assert schedule["policies"]["catchupWindow"] == "3600s" and schedule["spec"]["jitter"] == "1s"
    memo = json.loads(base64.b64decode(described["memo"]["fields"]["compounds"]["data"]))
    assert memo.startswith(f"sushiswap:masterchef:0 of {owner.address} on {CHAIN} every 60 s"), memo
    assert any(s["scheduleId"] == sid for s in _temporal(stack, "list"))

    async with running_worker(stack, queue):
        # It fires on its own at the next minute; then paused, it fires no more.
        await _wait_runs_closed(stack, sid, 1)
        _crosslane(stack, queue, "pause", sid, "--note", "gas is dear today")
        state = _temporal(stack, "describe", "--schedule-id", sid)["schedule"]["state"]
        assert state["paused"] is True and state["notes"] == "gas is dear today"
        listed = _crosslane(stack, queue, "list")
        assert sid in listed and "paused" in listed
        fired = int(_info(_temporal(stack, "describe", "--schedule-id", sid))["actionCount"])

        # Two triggers at once: the second would overlap the first, so it is skipped.
        _crosslane(stack, queue, "trigger", sid)
        _crosslane(stack, queue, "trigger", sid)
        runs = await _wait_runs_closed(stack, sid, fired + 1)
        info = _info(_temporal(stack, "describe", "--schedule-id", sid))
        assert len(runs) == fired + 1 == int(info["actionCount"])
        assert int(info.get("overlapSkipped", 0)) >= 1

        # Backfill the last 3 hours (three intervals): they start one after another, and a
        # run still going when the next is due makes that one skip.
        now = datetime.now(UTC)
        _crosslane(stack, queue, "backfill", sid, "--start", (now - timedelta(hours=3)).isoformat(),
                   "--end", now.isoformat())  # fmt: skip
        runs = await _wait_runs_closed(stack, sid, fired + 2)
    info = _info(_temporal(stack, "describe", "--schedule-id", sid))
    assert int(info["actionCount"]) == len(runs) >= fired + 2
    client = await temporal_client(stack)
    for run in runs:
        assert run.status is not None and run.status.name == "COMPLETED", run
        assert run.workflow_type == "YieldCompound" and run.id.startswith(f"compound-{sid.removeprefix('compound-')}")
        assert (await client.get_workflow_handle(run.id, run_id=run.run_id).describe()).status is not None
    _crosslane(stack, queue, "delete", sid)
    assert not any(s["scheduleId"] == sid for s in _temporal(stack, "list"))


async def test_a_position_the_chain_does_not_show_staked_is_refused_and_nothing_is_scheduled(stack: Stack) -> None:
    owner = stack.fund_signer()  # holds nothing: no stake, no NFT
    staked, _ = farm_owner(stack)
    client = await temporal_client(stack)
    for position, who, expected in (
        ("sushiswap:masterchef:9", staked.address, "unknown farm pid 9 in sushiswap's MasterChef; farms: 0"),
        ("sushiswap:masterchef:0", owner.address, f"{owner.address} has no LP tokens staked in farm 0"),
        ("v3:1", owner.address, f"position 1 is not {owner.address}'s in the staker"),
    ):
        sid = f"compound-refused-{who[2:10].lower()}-{position.replace(':', '-')}"
        refused = subprocess.run(
            [str(BIN / "crosslane"), "schedule", "compound", "--chain", CHAIN, "--owner", who,
             "--position", position, "--every", "1h", "--id", sid],
            env=stack.env("unused"), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode != 0, refused.stdout
        assert expected in " ".join(refused.stderr.split()), refused.stderr
        with pytest.raises(RPCError) as missing:
            await client.get_schedule_handle(sid).describe()
        assert missing.value.status is RPCStatusCode.NOT_FOUND
