"""Tools through the shim: the persona's view, calls, hidden ≡ nonexistent, one-page lists, real PyPI servers."""

from __future__ import annotations

import re

import pytest
from mcp.shared.exceptions import MCPError

from harness import connect, error_of, everything, fixture, git_server, persona, text_of, time_server

EXPOSED_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def tools_persona(bins, state_dir):
    return persona(
        {"everything": everything("everything", state_dir), "fixture": fixture(bins)},
        tools={"allow": ["everything__*", "fixture__echo", "fixture__slow"], "deny": ["everything__secret_tool", "*__crash"]},
    )


async def test_tools_list_is_the_persona_view(shims, bins, state_dir, agent_kind):
    async with connect(shims(tools_persona(bins, state_dir)), agent_kind) as agent:
        listing = await agent.list_tools()
        names = [t.name for t in listing.tools]
        for expected in ("everything__add", "everything__long_task", "fixture__echo", "fixture__slow"):
            assert expected in names, f"{expected} is allowed by the persona but not listed: {names}"
        assert "everything__secret_tool" not in names, "a deny pattern must beat the allow pattern everything__*"
        assert "fixture__raw" not in names and "fixture__crash" not in names, f"default deny: {names}"
        assert len(names) == len(set(names)), f"duplicate names: {names}"
        bad = [n for n in names if not EXPOSED_NAME.match(n)]
        assert not bad, f"exposed names must match ^[A-Za-z0-9_-]{{1,64}}$: {bad}"
        add = next(t for t in listing.tools if t.name == "everything__add")
        assert add.title == "Add two numbers", f"a 2025-11-25 agent must get the tool title: {add.title!r}"
        assert add.output_schema is not None and add.output_schema.get("required") == ["sum"], f"outputSchema lost: {add.output_schema}"
        assert add.icons, "a 2025-11-25 agent must get the tool icons"


async def test_call_tool_returns_content_and_structured_content(shims, bins, state_dir, agent_kind):
    async with connect(shims(tools_persona(bins, state_dir)), agent_kind) as agent:
        result = await agent.call_tool("everything__add", {"a": 2, "b": 3})
        assert not result.is_error, f"add failed: {result}"
        assert result.structured_content == {"sum": 5}, f"structuredContent: {result.structured_content}"
        assert text_of(result) == "sum computed"
        echoed = await agent.call_tool("fixture__echo", {"k": [1, "two"]})
        assert text_of(echoed) == '{"k":[1,"two"]}', f"arguments must reach the child verbatim: {text_of(echoed)!r}"


@pytest.mark.parametrize("name", ["everything__secret_tool", "fixture__raw", "fixture__crash", "nosuch__tool", "Everything__add", "add"])
async def test_hidden_or_unknown_tool_is_unknown_tool(shims, bins, state_dir, name):
    async with connect(shims(tools_persona(bins, state_dir))) as agent:
        with pytest.raises(MCPError) as excinfo:
            await agent.call_tool(name, {})
        code, message = error_of(excinfo)
        assert (code, message) == (-32602, f"Unknown tool: {name}"), f"calling {name}: got ({code}, {message!r})"


async def test_task_only_tool_is_not_listed(shims, state_dir, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__*"]}))
    async with connect(shim, agent_kind) as agent:
        listing = await agent.list_tools()
        names = [t.name for t in listing.tools]
        assert "everything__add" in names
        assert "everything__task_only" not in names, "a tool with execution.taskSupport = required must not be listed"
        for tool in listing.tools:
            support = tool.execution.task_support if tool.execution else None
            assert support != "required", f"{tool.name} is task-only and listed"


async def test_tools_list_is_one_complete_page(shims, bins, agent_kind):
    shim = shims(persona({"paged": fixture(bins, "--tools", "30", "--page-size", "7"), "fixture": fixture(bins)}, tools={"allow": ["paged__tool_*", "fixture__echo"]}))
    async with connect(shim, agent_kind) as agent:
        tools = await agent.list_tools()
        names = [t.name for t in tools.tools]
        expected = [f"paged__tool_{i:03d}" for i in range(30)] + ["fixture__echo"]
        assert names == expected, f"all pages of every child, in persona then child order: {names}"
        assert tools.next_cursor is None, "lists come back as one complete page"
    for entry in shim.traffic().out():
        result = entry.message.get("result") if isinstance(entry.message, dict) else None
        assert not (isinstance(result, dict) and "nextCursor" in result), f"nextCursor in a list result: {entry.line[:200]}"


async def test_resource_and_prompt_lists_are_one_complete_page(shims, state_dir, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": []}, resources={"allow": ["*"]}, prompts={"allow": ["*"]}))
    async with connect(shim, agent_kind) as agent:
        assert (await agent.list_resources()).next_cursor is None
        assert (await agent.list_resource_templates()).next_cursor is None
        assert (await agent.list_prompts()).next_cursor is None
    for entry in shim.traffic().out():
        result = entry.message.get("result") if isinstance(entry.message, dict) else None
        assert not (isinstance(result, dict) and "nextCursor" in result), f"nextCursor in a list result: {entry.line[:200]}"


async def test_any_cursor_on_tools_list_is_an_invalid_cursor(shims, bins, agent_kind):
    shim = shims(persona({"paged": fixture(bins, "--tools", "30", "--page-size", "7")}, tools={"allow": ["*"]}))
    async with connect(shim, agent_kind) as agent:
        first = await agent.list_tools()
        assert first.next_cursor is None
        for cursor in ("bogus", "eyJvZmZzZXQiOjd9"):
            with pytest.raises(MCPError) as excinfo:
                await agent.list_tools(cursor=cursor)
            code, message = error_of(excinfo)
            assert code == -32602 and message.startswith("Invalid cursor"), f"list_tools(cursor={cursor!r}): {(code, message)}"


@pytest.mark.parametrize("lister", ["list_resources", "list_resource_templates", "list_prompts"])
async def test_any_cursor_on_resource_and_prompt_lists_is_an_invalid_cursor(shims, state_dir, lister, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": []}, resources={"allow": ["*"]}, prompts={"allow": ["*"]}))
    async with connect(shim, agent_kind) as agent:
        for cursor in ("bogus", "eyJvZmZzZXQiOjd9"):
            with pytest.raises(MCPError) as excinfo:
                await getattr(agent, lister)(cursor=cursor)
            code, message = error_of(excinfo)
            assert code == -32602 and message.startswith("Invalid cursor"), f"{lister}(cursor={cursor!r}): {(code, message)}"


async def test_mcp_server_time_from_pypi(shims, agent_kind):
    shim = shims(persona({"time": time_server()}, tools={"allow": ["time__*"]}))
    async with connect(shim, agent_kind) as agent:
        names = await agent.tool_names()
        assert sorted(names) == ["time__convert_time", "time__get_current_time"], names
        now = await agent.call_tool("time__get_current_time", {"timezone": "UTC"})
        assert not now.is_error, text_of(now)
        assert now.structured_content and now.structured_content.get("timezone") == "UTC", f"structuredContent: {now.structured_content}"
        converted = await agent.call_tool(
            "time__convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        )
        assert not converted.is_error, text_of(converted)
        assert "21:00" in text_of(converted), f"12:00 UTC is 21:00 in Tokyo: {text_of(converted)}"
        bad = await agent.call_tool("time__get_current_time", {"timezone": "Not/AZone"})
        assert bad.is_error, "an invalid timezone is a tool error (isError), passed through unchanged"


async def test_mcp_server_git_from_pypi(shims, git_repo, agent_kind):
    shim = shims(
        persona(
            {"git": git_server(git_repo)},
            tools={"allow": ["git__git_status", "git__git_log", "git__git_diff_unstaged", "git__git_commit"], "deny": ["git__git_commit"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        names = await agent.tool_names()
        assert sorted(names) == ["git__git_diff_unstaged", "git__git_log", "git__git_status"], names
        status = await agent.call_tool("git__git_status", {"repo_path": str(git_repo)})
        assert not status.is_error, text_of(status)
        assert "README.md" in text_of(status), f"the modified README.md must show: {text_of(status)}"
        log = await agent.call_tool("git__git_log", {"repo_path": str(git_repo)})
        assert "Initial commit for interop tests" in text_of(log), text_of(log)
        diff = await agent.call_tool("git__git_diff_unstaged", {"repo_path": str(git_repo)})
        assert "+changed line" in text_of(diff), text_of(diff)
        with pytest.raises(MCPError) as excinfo:
            await agent.call_tool("git__git_commit", {"repo_path": str(git_repo), "message": "must not happen"})
        assert error_of(excinfo) == (-32602, "Unknown tool: git__git_commit")
