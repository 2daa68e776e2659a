"""Out-of-band approval with the official Python SDK as the client: an agent that declares no elicitation, a rule
that says ask, and the persona's approval command. Exit 0 runs the one parked call; exit 1 refuses it; a command
that hangs is killed at the timeout and refuses it. Every message persona-shim wrote is checked against the schema
(conftest). The terminal channel (`persona-shim approve` under a pseudo-terminal) is tested in
EndToEndTests/TerminalApprovalTests.swift.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import ClientSession, stdio_client

from harness import READ_TIMEOUT, fixture, persona, text_of

RULES = [
    {
        "id": "big-refunds",
        "tools": ["fx__refund"],
        "when": {"amount": {"exclusiveMinimum": 100}},
        "decision": "ask",
        "reason": "Refunds above 100 need a person",
    }
]


def _persona(bins, script: str, timeout: int = 30) -> dict[str, Any]:
    document = persona({"fx": fixture(bins, "--policy-tools")}, tools={"allow": ["fx__refund", "fx__echo"]}, name="refunds")
    document["rules"] = RULES
    document["approval"] = {"channel": "auto", "terminal": False, "timeoutSeconds": timeout, "command": ["/bin/sh", "-c", script]}
    return document


def _records(shim, event: str) -> list[dict[str, Any]]:
    return [r for r in shim.audit() if r.get("event") == event]


async def _call(shim, arguments: dict[str, Any]) -> tuple[Any, Any]:
    """Calls the refund with an SDK agent that declares no elicitation (so the shim asks out of band), and an echo."""
    info = types.Implementation(name="approval-command", version="1.0.0")
    with open(shim.stderr_path, "a", encoding="utf-8") as errlog:
        async with stdio_client(shim.parameters(), errlog=errlog) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, client_info=info) as session:
                await session.initialize()
                refund = await session.call_tool("fx__refund", arguments)
                echo = await session.call_tool("fx__echo", {"n": 1})
                return refund, echo


async def test_the_command_approves_by_exiting_zero_and_reads_the_question(shims, bins, tmp_path: Path):
    seen = tmp_path / "question.json"
    shim = shims(_persona(bins, f"cat > {seen}; exit 0"))
    refund, echo = await _call(shim, {"amount": 250, "customer": "cus_1"})
    assert not refund.is_error, text_of(refund)
    assert not echo.is_error
    question = json.loads(seen.read_text(encoding="utf-8"))
    assert question["tool"] == "fx__refund" and question["persona"] == "refunds" and question["rule"] == "big-refunds"
    assert question["arguments"] == {"amount": 250, "customer": "cus_1"}
    answered = _records(shim, "approval.answered")
    assert [(a["answer"], a["by"]) for a in answered] == [("approved", "command")], answered
    approved = [r for r in _records(shim, "call.decision") if r.get("approval")]
    assert len(approved) == 1 and approved[0]["approvedArgsDigest"] == question["argumentsDigest"] == approved[0]["argsDigest"]


async def test_the_command_refuses_by_exiting_non_zero(shims, bins):
    shim = shims(_persona(bins, "cat > /dev/null; exit 1"))
    refund, echo = await _call(shim, {"amount": 500})
    assert refund.is_error and "did not approve" in text_of(refund), text_of(refund)
    assert not echo.is_error
    assert [a["answer"] for a in _records(shim, "approval.answered")] == ["denied"]
    assert not [r for r in _records(shim, "call.decision") if r.get("tool") == "fx__refund" and r["decision"] == "allow"]


async def test_a_hanging_command_is_killed_at_the_timeout_and_refuses(shims, bins, tmp_path: Path):
    pid_file = tmp_path / "pid"
    shim = shims(_persona(bins, f"echo $$ > {pid_file}; exec sleep 300", timeout=2))
    refund, echo = await _call(shim, {"amount": 500})
    assert refund.is_error and "nobody answered within 2 seconds" in text_of(refund), text_of(refund)
    assert [a["answer"] for a in _records(shim, "approval.answered")] == ["timeout"]
    pid = int(pid_file.read_text().strip())
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        await anyio.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), f"the approval command {pid} is still there"
