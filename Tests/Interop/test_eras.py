"""Both protocol eras with the official Python SDK: its Client in auto mode speaks 2026-07-28 (persona-shim answers
its server/discover probe), its ClientSession speaks the handshake; the servers are the fixture (legacy, or modern
with --era modern) and mcp-server-time (both eras; it follows the agent's). Every combination
lists and calls alike, and every line persona-shim writes validates against the agent's revision's schema (the
suite's check, see conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import mcp_types as types
import pytest

from harness import Callbacks, connect, fixture, persona, text_of, time_server


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


@pytest.mark.parametrize("kind", ["session", "modern"])
async def test_mcp_server_git_in_the_agents_era(shims, git_repo, kind: str):
    from harness import git_server

    shim = shims(persona({"git": git_server(git_repo)}, tools={"allow": ["git__git_status", "git__git_log"]}))
    async with connect(shim, kind) as agent:
        assert sorted(await agent.tool_names()) == ["git__git_log", "git__git_status"]
        status = await agent.call_tool("git__git_status", {"repo_path": str(git_repo)})
        assert not status.is_error and "README.md" in text_of(status), text_of(status)
    assert _ready(shim) == {"git": "2026-07-28" if kind == "modern" else "2025-11-25"}


async def test_a_modern_agent_gets_private_cacheable_lists(shims, bins):
    shim = shims(_eras_persona(bins, modern_fixture=False))
    async with connect(shim, "modern") as agent:
        await agent.tool_names()
    listed = [m for m in shim.traffic().out() if isinstance(m.message, dict) and "tools" in (m.message.get("result") or {})]
    assert listed, "no tools/list answer"
    result = listed[-1].message["result"]
    assert result["resultType"] == "complete" and result["cacheScope"] == "private" and result["ttlMs"] >= 0, result


# ---- multi round-trip requests: a modern agent, a modern server (the SDK's, probed first), persona-shim between


def _requests_persona(state_dir, server_requests=None):
    from harness import everything

    return persona(
        {"everything": everything("everything", state_dir)},
        tools={"allow": ["everything__ask_model", "everything__ask_user", "everything__list_roots"]},
        server_requests=server_requests,
    )


def _mrtr_server(*args: str) -> dict:
    from harness import PYTHON

    return {"command": PYTHON, "args": [str(Path(__file__).resolve().parent / "mrtr_server.py"), *args]}


def _mrtr_persona(server_requests=None, *args: str):
    return persona(
        {"mrtr": _mrtr_server(*args)},
        tools={"allow": ["mrtr__ask_user", "mrtr__ask_model", "mrtr__list_roots"]},
        server_requests=server_requests,
    )


def _interim(shim) -> list[dict]:
    return [
        m.message["result"]
        for m in shim.traffic().out()
        if isinstance(m.message, dict) and (m.message.get("result") or {}).get("resultType") == "input_required"
    ]


async def test_an_elicitation_reaches_a_modern_agent_and_the_server_gets_its_own_state_back(shims):
    shim = shims(_mrtr_persona())
    async with connect(shim, "modern", Callbacks(elicitation=True)) as agent:
        assert agent.protocol_version == "2026-07-28"
        result = await agent.call_tool("mrtr__ask_user", {}, read_timeout=10)
        assert not result.is_error, text_of(result)
        assert len(agent.seen.elicitation) == 1, "the agent's elicitation callback must be called once"
        assert '"accept"' in text_of(result), text_of(result)
    interim = _interim(shim)
    assert len(interim) == 1, interim
    state = interim[0]["requestState"]
    assert state.startswith("ps1.") and "mrtr-state" not in state, f"the agent must hold the shim's sealed state: {state!r}"
    records = [json.loads(line) for line in shim.audit_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = [r for r in records if r.get("event") == "server.request"]
    assert [(r["method"], r["decision"]) for r in asked] == [("elicitation/create", "allow")], asked


async def test_sampling_the_persona_refuses_never_reaches_a_modern_agent(shims):
    shim = shims(_mrtr_persona())
    async with connect(shim, "modern", Callbacks(sampling=True)) as agent:
        result = await agent.call_tool("mrtr__ask_model", {}, read_timeout=10)
        assert result.is_error, text_of(result)
        assert agent.seen.sampling == [], "the agent's sampling callback must not be called"
    assert _interim(shim) == []


async def test_roots_reach_a_modern_agent_through_the_same_path(shims):
    roots = [types.Root(uri="file:///tmp/interop-root", name="interop root")]
    shim = shims(_mrtr_persona())
    async with connect(shim, "modern", Callbacks(roots=roots)) as agent:
        result = await agent.call_tool("mrtr__list_roots", {}, read_timeout=10)
        assert not result.is_error, text_of(result)
        assert "interop-root" in text_of(result), text_of(result)


async def test_a_legacy_agent_answers_a_modern_servers_elicitation_as_an_old_request(shims):
    shim = shims(_mrtr_persona(None, "--modern-only"))
    async with connect(shim, "session", Callbacks(elicitation=True)) as agent:
        assert agent.protocol_version == "2025-11-25"
        result = await agent.call_tool("mrtr__ask_user", {}, read_timeout=10)
        assert not result.is_error, text_of(result)
        assert '"accept"' in text_of(result), text_of(result)
        assert len(agent.seen.elicitation) == 1
    assert len(shim.traffic().server_requests("elicitation/create")) == 1
    assert _ready(shim) == {"mrtr": "2026-07-28"}, "the modern-only server refused initialize and was probed"


# ---- a legacy server's own requests reach a modern agent as input_required (the fixture's ask tool)


@pytest.mark.parametrize("method", ["elicitation/create", "roots/list"])
async def test_a_legacy_servers_request_reaches_a_modern_agent_as_input_required(shims, bins, method: str):
    roots = [types.Root(uri="file:///tmp/held-root", name="held root")]
    shim = shims(
        persona(
            {"fixture": fixture(bins, "--protocol-tools")},
            tools={"allow": ["fixture__ask"]},
            server_requests={"elicitation": True, "roots": True},
        )
    )
    async with connect(shim, "modern", Callbacks(elicitation=True, roots=roots)) as agent:
        result = await agent.call_tool("fixture__ask", {"method": method}, read_timeout=15)
        assert not result.is_error, text_of(result)
        assert "fixture-ask" in text_of(result), text_of(result)
        if method == "roots/list":
            assert "held-root" in text_of(result), text_of(result)
        else:
            assert len(agent.seen.elicitation) == 1
    interim = _interim(shim)
    assert len(interim) == 1 and interim[0]["requestState"].startswith("ps1."), interim
    assert _ready(shim) == {"fixture": "2025-11-25"}
