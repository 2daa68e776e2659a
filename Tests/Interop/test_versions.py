"""Version negotiation: a 2025-03-26 agent gets 2025-03-26 and only what that revision has.

The SDK's ClientSession always offers its newest handshake revision, so the test lowers the constant it offers
(`mcp.client.session.LATEST_HANDSHAKE_VERSION`); the SDK then also validates every result at 2025-03-26, and the
suite's schema check validates every message against schema/2025-03-26.schema.json.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
import pytest

from harness import connect, everything, persona, text_of, time_server

OLD = "2025-03-26"


@pytest.fixture
def old_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcp.client.session.LATEST_HANDSHAKE_VERSION", OLD)


def _scan(message: Any, keys: tuple[str, ...], path: str = "$") -> list[str]:
    """Paths in a message where one of keys appears, or a resource_link block if "resource_link" is in keys."""
    found: list[str] = []
    if isinstance(message, dict):
        if "resource_link" in keys and message.get("type") == "resource_link":
            found.append(f"{path}: resource_link block")
        for key in keys:
            if key in message:
                found.append(f"{path}.{key}")
        for key, value in message.items():
            # JSON Schema keywords such as "title" are not protocol fields; ToolAnnotations.title is 2025-03-26.
            if key not in ("inputSchema", "requestedSchema", "annotations"):
                found += _scan(value, keys, f"{path}.{key}")
    elif isinstance(message, list):
        for i, value in enumerate(message):
            found += _scan(value, keys, f"{path}[{i}]")
    return found


def _scan_traffic(shim, keys: tuple[str, ...]) -> list[str]:
    problems = []
    for entry in shim.traffic().out():
        if isinstance(entry.message, dict):
            problems += [f"line {entry.number}: {p}" for p in _scan(entry.message, keys)]
    return problems


def old_persona(state_dir):
    return persona(
        {"everything": everything("everything", state_dir), "time": time_server()},
        tools={"allow": ["everything__add", "everything__get_links", "time__get_current_time"]},
        resources={"allow": ["*"]},
        prompts={"allow": ["everything__greet"]},
    )


async def test_old_agent_negotiates_its_revision_and_lists_carry_nothing_newer(shims, state_dir, old_agent):
    shim = shims(old_persona(state_dir))
    async with connect(shim) as agent:
        assert agent.protocol_version == OLD, f"a {OLD} agent must get {OLD}, got {agent.protocol_version}"
        tools = await agent.list_tools()
        assert sorted(t.name for t in tools.tools) == ["everything__add", "everything__get_links", "time__get_current_time"]
        for tool in tools.tools:
            assert tool.output_schema is None and tool.icons is None and tool.title is None, f"{tool.name} carries newer fields"
        await agent.list_resources()
        await agent.list_resource_templates()
        await agent.list_prompts()
    problems = _scan_traffic(shim, ("title", "icons", "outputSchema", "websiteUrl"))
    assert not problems, f"a {OLD} agent saw fields its revision does not have:\n" + "\n".join(problems)


async def test_old_agent_gets_structured_content_as_a_text_block(shims, state_dir, old_agent):
    """everything__add answers content [text "sum computed"] + structuredContent {"sum": N}: the JSON must reach the agent."""
    shim = shims(old_persona(state_dir))
    async with connect(shim) as agent:
        added = await agent.call_tool("everything__add", {"a": 20, "b": 22})
        assert added.structured_content is None, "no structuredContent for a 2025-03-26 agent"
        carried = [_json(b.text) for b in added.content if isinstance(b, types.TextContent)]
        assert {"sum": 42} in carried, f"a text block must carry the structured content's JSON: {text_of(added)!r}"
    problems = _scan_traffic(shim, ("structuredContent",))
    assert not problems, f"a {OLD} agent saw structuredContent:\n" + "\n".join(problems)


async def test_old_agent_gets_mcp_server_time_structured_result_as_text(shims, state_dir, old_agent):
    """mcp-server-time (PyPI) answers with structuredContent and its JSON as text, as the spec recommends."""
    shim = shims(old_persona(state_dir))
    async with connect(shim) as agent:
        now = await agent.call_tool("time__get_current_time", {"timezone": "UTC"})
        assert now.structured_content is None, "no structuredContent for a 2025-03-26 agent"
        blocks = [_json(b.text) for b in now.content if isinstance(b, types.TextContent)]
        assert any(isinstance(b, dict) and b.get("timezone") == "UTC" for b in blocks), f"mcp-server-time's result as text: {text_of(now)!r}"
    problems = _scan_traffic(shim, ("structuredContent",))
    assert not problems, f"a {OLD} agent saw structuredContent:\n" + "\n".join(problems)


async def test_old_agent_gets_no_resource_link_blocks(shims, state_dir, old_agent):
    shim = shims(old_persona(state_dir))
    async with connect(shim) as agent:
        links = await agent.call_tool("everything__get_links", {})
        assert "resource_link" not in [b.type for b in links.content], f"tool result blocks: {[b.type for b in links.content]}"
        prompt = await agent.get_prompt("everything__greet", {"name": "Old"})
        assert "resource_link" not in [m.content.type for m in prompt.messages], "prompt message blocks"
    problems = _scan_traffic(shim, ("resource_link",))
    assert not problems, f"a {OLD} agent saw resource_link blocks:\n" + "\n".join(problems)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
