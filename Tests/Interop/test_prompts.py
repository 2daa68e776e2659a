"""Prompts and completion through the shim."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from harness import connect, error_of, everything, persona, read_events


def prompts_persona(state_dir, **extra_servers):
    return persona(
        {"everything": everything("everything", state_dir), **extra_servers},
        tools={"allow": ["everything__add"]},
        prompts={"allow": ["*"], "deny": ["*__hidden_prompt"]},
    )


async def test_prompts_list_is_namespaced_and_filtered(shims, state_dir, agent_kind):
    async with connect(shims(prompts_persona(state_dir)), agent_kind) as agent:
        listed = await agent.list_prompts()
        names = [p.name for p in listed.prompts]
        assert names == ["everything__greet"], f"prompts are <server>__<prompt>, hidden_prompt denied: {names}"
        greet = listed.prompts[0]
        assert greet.title == "Greeting" and greet.icons, "a 2025-11-25 agent gets the prompt's title and icons"
        assert [a.name for a in greet.arguments or []] == ["name"]


async def test_get_prompt(shims, state_dir, agent_kind):
    async with connect(shims(prompts_persona(state_dir)), agent_kind) as agent:
        result = await agent.get_prompt("everything__greet", {"name": "Alice"})
        first = result.messages[0].content
        assert isinstance(first, types.TextContent) and first.text == "Hello, Alice! (everything)", f"{first}"
        embedded = result.messages[1].content
        assert isinstance(embedded, types.EmbeddedResource) and str(embedded.resource.uri) == "memo://notes", (
            f"one server: URIs pass unchanged: {embedded}"
        )


@pytest.mark.parametrize("name", ["everything__hidden_prompt", "everything__nope", "greet", "other__greet"])
async def test_hidden_or_unknown_prompt_is_unknown_prompt(shims, state_dir, name):
    async with connect(shims(prompts_persona(state_dir))) as agent:
        with pytest.raises(MCPError) as excinfo:
            await agent.get_prompt(name, {})
        assert error_of(excinfo) == (-32602, f"Unknown prompt: {name}"), f"prompts/get {name}: {error_of(excinfo)}"


async def test_no_prompts_section_means_no_prompts(shims, state_dir):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add"]}))
    async with connect(shim) as agent:
        try:
            listed = await agent.list_prompts()
        except MCPError as e:
            assert e.code == -32601, f"prompts/list without a prompts capability: expected -32601 or an empty list, got {e.code}"
        else:
            assert listed.prompts == [], f"no prompts section: nothing may be visible, got {listed.prompts}"
        with pytest.raises(MCPError) as excinfo:
            await agent.get_prompt("everything__greet", {"name": "x"})
        assert error_of(excinfo) == (-32602, "Unknown prompt: everything__greet")


async def test_prompt_argument_completion_is_routed_to_the_owner(shims, state_dir, agent_kind):
    shim = shims(prompts_persona(state_dir, other=everything("other", state_dir)))
    async with connect(shim, agent_kind) as agent:
        result = await agent.complete_prompt("everything__greet", "name", "Al")
        assert result.completion.values == ["Alice", "Alan"], f"completion values: {result.completion.values}"
        assert result.completion.has_more is False
    refs = [e["ref"] for e in read_events(state_dir, "everything") if e["event"] == "complete"]
    assert refs == [{"type": "ref/prompt", "name": "greet"}], f"the owner must get its own prompt name: {refs}"
    assert not [e for e in read_events(state_dir, "other") if e["event"] == "complete"], "completion went to the wrong server"


@pytest.mark.parametrize("name", ["everything__hidden_prompt", "everything__nope", "greet"])
async def test_completion_for_a_hidden_or_unknown_prompt_is_invalid_params(shims, state_dir, name):
    async with connect(shims(prompts_persona(state_dir))) as agent:
        with pytest.raises(MCPError) as excinfo:
            await agent.complete_prompt(name, "name", "A")
        code, message = error_of(excinfo)
        assert code == -32602, f"completion/complete for {name}: got ({code}, {message!r})"
    assert not [e for e in read_events(state_dir, "everything") if e["event"] == "complete"], "a hidden ref must not reach the server"


async def test_completion_from_a_server_without_completions_is_empty(shims, state_dir, agent_kind):
    shim = shims(
        persona(
            {"plain": everything("plain", state_dir, "--no-completion")},
            tools={"allow": []},
            prompts={"allow": ["*"]},
            resources={"allow": ["*"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        assert [p.name for p in (await agent.list_prompts()).prompts] == ["plain__greet", "plain__hidden_prompt"]
        result = await agent.complete_prompt("plain__greet", "name", "A")
        assert result.completion.values == [] and result.completion.has_more is False, f"{result.completion}"
        by_template = await agent.complete_resource("memo://items/{id}", "id", "4")
        assert by_template.completion.values == [] and by_template.completion.has_more is False, f"{by_template.completion}"
    for entry in shim.traffic().out():
        result = entry.message.get("result") if isinstance(entry.message, dict) else None
        if isinstance(result, dict) and "completion" in result:
            assert result["completion"] == {"values": [], "hasMore": False}, f"exact empty completion expected: {entry.line}"
