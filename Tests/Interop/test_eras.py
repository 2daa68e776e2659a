"""Both protocol eras with the official Python SDK: its Client in auto mode speaks 2026-07-28 (persona-shim answers
its server/discover probe), its ClientSession speaks the handshake; the servers are the fixture (legacy, or modern
with --era modern) and mcp-server-time (both eras; it follows the agent's). Every combination
lists and calls alike, and every line persona-shim writes validates against the agent's revision's schema (the
suite's check, see conftest.py).
"""

from __future__ import annotations

import json

import pytest

from harness import connect, fixture, persona, text_of, time_server


def _eras_persona(bins, modern_fixture: bool):
    args = ("--era", "modern") if modern_fixture else ()
    return persona(
        {"fixture": fixture(bins, *args), "time": time_server()},
        tools={"allow": ["fixture__echo", "time__get_current_time"]},
    )


def _ready(shim) -> dict[str, str]:
    records = [json.loads(line) for line in shim.audit_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["server"]: r["protocolVersion"] for r in records if r.get("event") == "child.ready"}


@pytest.mark.parametrize("kind", ["session", "modern"])
@pytest.mark.parametrize("modern_fixture", [False, True])
async def test_every_combination_of_eras_lists_and_calls(shims, bins, kind: str, modern_fixture: bool):
    shim = shims(_eras_persona(bins, modern_fixture))
    async with connect(shim, kind) as agent:
        expected = "2026-07-28" if kind == "modern" else "2025-11-25"
        assert agent.protocol_version == expected, f"{kind} negotiated {agent.protocol_version}"
        names = await agent.tool_names()
        assert names == ["fixture__echo", "time__get_current_time"], names
        echoed = await agent.call_tool("fixture__echo", {"text": "eras"})
        assert not echoed.is_error and "eras" in text_of(echoed)
        now = await agent.call_tool("time__get_current_time", {"timezone": "UTC"})
        assert not now.is_error, text_of(now)
    ready = _ready(shim)
    # mcp-server-time speaks both eras: a modern agent's shim probes it first (modern); a legacy agent's shim gives it
    # the handshake first, as before (see SessionCore+ServerEra.swift).
    assert ready.get("time") == expected, f"mcp-server-time: {ready}"
    assert ready.get("fixture") == ("2026-07-28" if modern_fixture else "2025-11-25"), ready


async def test_a_modern_agent_gets_private_cacheable_lists(shims, bins):
    shim = shims(_eras_persona(bins, modern_fixture=False))
    async with connect(shim, "modern") as agent:
        await agent.tool_names()
    listed = [m for m in shim.traffic().out() if isinstance(m.message, dict) and "tools" in (m.message.get("result") or {})]
    assert listed, "no tools/list answer"
    result = listed[-1].message["result"]
    assert result["resultType"] == "complete" and result["cacheScope"] == "private" and result["ttlMs"] >= 0, result
