"""Resources through the shim: the persona's URI patterns, reads, templates, subscriptions, and URI rewriting."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from harness import (
    connect,
    error_of,
    everything,
    is_notification,
    notifications_out,
    persona,
    read_events,
    wait_for_out,
)

# ---- one server: URIs pass unchanged


def single(state_dir, **sections):
    return persona(
        {"everything": everything("everything", state_dir)},
        tools={"allow": ["everything__*"]},
        **sections,
    )


async def test_single_server_resources_are_listed_unchanged(shims, state_dir, agent_kind):
    shim = shims(single(state_dir, resources={"allow": ["memo://*"], "deny": ["memo://secret"]}))
    async with connect(shim, agent_kind) as agent:
        listed = await agent.list_resources()
        uris = [str(r.uri) for r in listed.resources]
        assert uris == ["memo://notes"], f"memo://secret is denied; memo://notes passes unchanged: {uris}"
        notes = listed.resources[0]
        assert notes.title == "Notes" and notes.icons, "a 2025-11-25 agent gets the resource's title and icons"
        templates = await agent.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == ["memo://items/{id}"]


async def test_single_server_reads(shims, state_dir, agent_kind):
    shim = shims(single(state_dir, resources={"allow": ["memo://*"], "deny": ["memo://secret"]}))
    async with connect(shim, agent_kind) as agent:
        notes = await agent.read_resource("memo://notes")
        assert [(str(c.uri), c.text) for c in notes.contents] == [("memo://notes", "notes of everything")]
        item = await agent.read_resource("memo://items/42")
        assert [(str(c.uri), c.text) for c in item.contents] == [("memo://items/42", "item 42 of everything")]


@pytest.mark.parametrize("uri", ["memo://secret", "memo://nope", "file:///etc/passwd", "MEMO://notes"])
async def test_hidden_or_unknown_resource_is_resource_not_found(shims, state_dir, uri):
    shim = shims(single(state_dir, resources={"allow": ["memo://*"], "deny": ["memo://secret"]}))
    async with connect(shim) as agent:
        with pytest.raises(MCPError) as excinfo:
            await agent.read_resource(uri)
        # The spec's "Resource not found"; a hidden URI must read exactly like a missing one.
        assert error_of(excinfo) == (-32002, "Resource not found"), f"reading {uri}: {error_of(excinfo)}"


async def test_no_resources_section_means_no_resources(shims, state_dir):
    shim = shims(single(state_dir))
    async with connect(shim) as agent:
        try:
            listed = await agent.list_resources()
        except MCPError as e:
            assert e.code == -32601, f"resources/list without a resources capability: expected -32601 or an empty list, got {e.code}"
        else:
            assert listed.resources == [], f"no resources section: nothing may be visible, got {listed.resources}"
        with pytest.raises(MCPError) as excinfo:
            await agent.read_resource("memo://notes")
        assert error_of(excinfo) == (-32002, "Resource not found")


async def test_subscribe_and_updated(shims, state_dir, agent_kind):
    shim = shims(single(state_dir, resources={"allow": ["memo://*"], "deny": ["memo://secret"]}))
    async with connect(shim, agent_kind) as agent:
        await agent.subscribe("memo://notes")
        await agent.call_tool("everything__touch", {"uri": "memo://notes"})
        await wait_for_out(shim, is_notification("notifications/resources/updated", uri="memo://notes"), 5, "resources/updated for memo://notes")
        await agent.wait_until(
            lambda: any(isinstance(n, types.ResourceUpdatedNotification) for _, n in agent.seen.notifications),
            5,
            "the SDK to deliver the resources/updated notification",
        )
    subscribed = [e["uri"] for e in read_events(state_dir, "everything") if e["event"] == "subscribe"]
    assert subscribed == ["memo://notes"], f"resources/subscribe must reach the server with the original URI: {subscribed}"


async def test_updated_only_for_what_the_agent_subscribed_to(shims, state_dir):
    """Issue 4: notifications/resources/updated routed back only to what the agent subscribed to."""
    shim = shims(single(state_dir, resources={"allow": ["memo://*"], "deny": ["memo://secret"]}))
    async with connect(shim) as agent:
        await agent.subscribe("memo://notes")
        await agent.call_tool("everything__touch", {"uri": "memo://items/9"})
        await agent.call_tool("everything__touch", {"uri": "memo://secret"})
        await agent.call_tool("everything__touch", {"uri": "memo://notes"})
        # The server sends in this order, so once the last one is through, the others would have been too.
        await wait_for_out(shim, is_notification("notifications/resources/updated", uri="memo://notes"), 5, "resources/updated for memo://notes")
    uris = [n["params"]["uri"] for n in notifications_out(shim, "notifications/resources/updated")]
    assert uris == ["memo://notes"], f"only the subscribed (and visible) URI may be forwarded: {uris}"


# ---- two servers: URIs become <server>+<uri>


def pair(state_dir):
    return persona(
        {"alpha": everything("alpha", state_dir), "beta": everything("beta", state_dir)},
        tools={"allow": ["*"]},
        resources={"allow": ["alpha+memo://*", "beta+memo://notes"], "deny": ["alpha+memo://secret"]},
        prompts={"allow": ["*"]},
    )


async def test_two_servers_prefix_uris_in_lists(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        uris = sorted(str(r.uri) for r in (await agent.list_resources()).resources)
        assert uris == ["alpha+memo://notes", "beta+memo://notes"], f"every URI is <server>+<uri>, filtered by the patterns: {uris}"
        templates = [t.uri_template for t in (await agent.list_resource_templates()).resource_templates]
        assert templates == ["alpha+memo://items/{id}"], f"templates are prefixed and filtered too: {templates}"


async def test_two_servers_prefix_is_the_lowercased_server_name(shims, state_dir, agent_kind):
    shim = shims(
        persona(
            {"Alpha": everything("alpha", state_dir), "BETA": everything("beta", state_dir)},
            tools={"allow": ["Alpha__get_links"]},
            resources={"allow": ["alpha+memo://notes", "beta+memo://notes"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        uris = sorted(str(r.uri) for r in (await agent.list_resources()).resources)
        assert uris == ["alpha+memo://notes", "beta+memo://notes"], f"servers Alpha and BETA: prefixes alpha+ and beta+ expected: {uris}"
        read = await agent.read_resource("alpha+memo://notes")
        assert [str(c.uri) for c in read.contents] == ["alpha+memo://notes"], f"{read.contents}"
        links = await agent.call_tool("Alpha__get_links", {})
        link = next(b for b in links.content if isinstance(b, types.ResourceLink))
        assert str(link.uri) == "alpha+memo://notes", f"resource_link uri: {link.uri}"


async def test_two_servers_reads_are_routed_and_rewritten(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        for uri, body in [
            ("alpha+memo://notes", "notes of alpha"),
            ("beta+memo://notes", "notes of beta"),
            ("alpha+memo://items/7", "item 7 of alpha"),
        ]:
            result = await agent.read_resource(uri)
            assert [(str(c.uri), c.text) for c in result.contents] == [(uri, body)], f"read {uri}: {result.contents}"
        for hidden in ["alpha+memo://secret", "beta+memo://secret", "beta+memo://items/7", "memo://notes", "gamma+memo://notes"]:
            with pytest.raises(MCPError) as excinfo:
                await agent.read_resource(hidden)
            assert error_of(excinfo) == (-32002, "Resource not found"), f"read {hidden}: {error_of(excinfo)}"


async def test_two_servers_subscribe_and_updated_are_rewritten(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        await agent.subscribe("beta+memo://notes")
        await agent.call_tool("beta__touch", {"uri": "memo://notes"})
        await wait_for_out(
            shim, is_notification("notifications/resources/updated", uri="beta+memo://notes"), 5, "resources/updated for beta+memo://notes"
        )
    subscribed = [e["uri"] for e in read_events(state_dir, "beta") if e["event"] == "subscribe"]
    assert subscribed == ["memo://notes"], f"beta must get its own URI in resources/subscribe: {subscribed}"
    assert not [e for e in read_events(state_dir, "alpha") if e["event"] == "subscribe"], "the subscription belongs to beta only"


async def test_two_servers_uris_in_tool_results_are_rewritten(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        result = await agent.call_tool("alpha__get_links", {})
        link = next(b for b in result.content if isinstance(b, types.ResourceLink))
        embedded = next(b for b in result.content if isinstance(b, types.EmbeddedResource))
        assert str(link.uri) == "alpha+memo://notes", f"resource_link uri: {link.uri}"
        assert str(embedded.resource.uri) == "alpha+memo://notes", f"embedded resource uri: {embedded.resource.uri}"


async def test_two_servers_uris_in_prompt_messages_are_rewritten(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        prompt = await agent.get_prompt("beta__greet", {"name": "Bea"})
        uris = []
        for message in prompt.messages:
            if isinstance(message.content, types.EmbeddedResource):
                uris.append(str(message.content.resource.uri))
            elif isinstance(message.content, types.ResourceLink):
                uris.append(str(message.content.uri))
        assert uris == ["beta+memo://notes", "beta+memo://items/1"], f"URIs inside prompt messages: {uris}"


async def test_two_servers_resource_completion_is_routed(shims, state_dir, agent_kind):
    shim = shims(pair(state_dir))
    async with connect(shim, agent_kind) as agent:
        result = await agent.complete_resource("alpha+memo://items/{id}", "id", "4")
        assert result.completion.values == ["42"], f"completion values: {result.completion.values}"
        with pytest.raises(MCPError) as excinfo:
            await agent.complete_resource("beta+memo://items/{id}", "id", "4")
        code, _ = error_of(excinfo)
        assert code == -32602, f"a hidden template ref must get -32602, got {error_of(excinfo)}"
    refs = [e["ref"] for e in read_events(state_dir, "alpha") if e["event"] == "complete"]
    assert refs == [{"type": "ref/resource", "uri": "memo://items/{id}"}], f"alpha must get its own template URI: {refs}"
    assert not [e for e in read_events(state_dir, "beta") if e["event"] == "complete"], "the hidden ref must not reach beta"
