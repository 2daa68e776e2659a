"""list_changed notifications from children: re-fetched, compared with the persona view, told to the agent once."""

from __future__ import annotations

import anyio

from harness import connect, everything, is_notification, notifications_out, persona, wait_for_out

QUIET = 2.0  # how long to watch for notifications that must not come (or must not come twice)


async def test_visible_tool_change_gives_one_tools_list_changed(shims, state_dir, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__*"]}))
    async with connect(shim, agent_kind) as agent:
        before = await agent.tool_names()
        await agent.call_tool("everything__add_dynamic_tool", {"name": "extra_tool"})  # the server notifies twice
        await wait_for_out(shim, is_notification("notifications/tools/list_changed"), 5, "notifications/tools/list_changed")
        await anyio.sleep(QUIET)
        count = len(notifications_out(shim, "notifications/tools/list_changed"))
        assert count == 1, f"the agent must be told once, got {count} notifications/tools/list_changed"
        after = await agent.tool_names()
        assert after == before + ["everything__extra_tool"], f"tools after the change: {after}"


async def test_hidden_tool_change_gives_no_list_changed(shims, state_dir):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add*"]}))
    async with connect(shim) as agent:
        before = await agent.tool_names()
        await agent.call_tool("everything__add_dynamic_tool", {"name": "hidden_extra"})
        await anyio.sleep(QUIET)
        got = notifications_out(shim, "notifications/tools/list_changed")
        assert got == [], f"the agent's view did not change, yet it got {len(got)} tools/list_changed"
        assert await agent.tool_names() == before


async def test_visible_prompt_change_gives_one_prompts_list_changed(shims, state_dir, agent_kind):
    shim = shims(
        persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add_dynamic_prompt"]}, prompts={"allow": ["*"], "deny": ["*hidden*"]})
    )
    async with connect(shim, agent_kind) as agent:
        before = [p.name for p in (await agent.list_prompts()).prompts]
        await agent.call_tool("everything__add_dynamic_prompt", {"name": "extra_prompt"})
        await wait_for_out(shim, is_notification("notifications/prompts/list_changed"), 5, "notifications/prompts/list_changed")
        await anyio.sleep(QUIET)
        count = len(notifications_out(shim, "notifications/prompts/list_changed"))
        assert count == 1, f"the agent must be told once, got {count} notifications/prompts/list_changed"
        after = [p.name for p in (await agent.list_prompts()).prompts]
        assert after == before + ["everything__extra_prompt"], f"prompts after the change: {after}"


async def test_hidden_prompt_change_gives_no_list_changed(shims, state_dir):
    shim = shims(
        persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add_dynamic_prompt"]}, prompts={"allow": ["everything__greet"]})
    )
    async with connect(shim) as agent:
        await agent.call_tool("everything__add_dynamic_prompt", {"name": "invisible_prompt"})
        await anyio.sleep(QUIET)
        got = notifications_out(shim, "notifications/prompts/list_changed")
        assert got == [], f"the agent's view did not change, yet it got {len(got)} prompts/list_changed"


async def test_resources_list_changed_is_forwarded(shims, state_dir, agent_kind):
    shim = shims(
        persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add_dynamic_resource"]}, resources={"allow": ["memo://*"]})
    )
    async with connect(shim, agent_kind) as agent:
        await agent.call_tool("everything__add_dynamic_resource", {"uri": "memo://dynamic"})
        await wait_for_out(shim, is_notification("notifications/resources/list_changed"), 5, "notifications/resources/list_changed")
        uris = [str(r.uri) for r in (await agent.list_resources()).resources]
        assert "memo://dynamic" in uris, f"the new resource must be listed: {uris}"
