"""Initialize, capabilities, the auto-mode probe, and waiting for the children."""

from __future__ import annotations

from harness import connect, everything, fixture, persona


def _timing(shim, method: str) -> tuple[float, dict]:
    """(seconds from the agent's request to persona-shim's response, the response) for the first request of method."""
    log = shim.traffic()
    request = next((e for e in log.inbound() if isinstance(e.message, dict) and e.message.get("method") == method), None)
    assert request is not None, f"the agent never sent {method}"
    rid = request.message["id"]
    response = next(
        (
            e
            for e in log.out()
            if isinstance(e.message, dict) and "method" not in e.message and e.message.get("id") == rid and e.number > request.number
        ),
        None,
    )
    assert response is not None, f"persona-shim never answered the agent's {method}"
    return response.t - request.t, response.message


async def test_initialize_advertises_the_union_of_child_capabilities(shims, state_dir, agent_kind):
    shim = shims(
        persona(
            {"everything": everything("everything", state_dir)},
            tools={"allow": ["everything__*"]},
            resources={"allow": ["*"]},
            prompts={"allow": ["*"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        assert agent.protocol_version == "2025-11-25", f"negotiated {agent.protocol_version}, expected 2025-11-25"
        caps = agent.initialize_result.capabilities
        assert caps.tools is not None and caps.tools.list_changed is True, f"tools.listChanged must be true: {caps.tools}"
        assert caps.resources is not None, "the child offers resources and the persona allows some: resources expected"
        assert caps.prompts is not None, "the child offers prompts and the persona allows some: prompts expected"
        assert caps.logging is not None, "the child offers logging: logging expected"
        assert caps.completions is not None, "the child offers completions: completions expected"


async def test_no_resource_or_prompt_capability_without_an_allow_list(shims, state_dir, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__add"]}))
    async with connect(shim, agent_kind) as agent:
        caps = agent.initialize_result.capabilities
        assert caps.tools is not None and caps.tools.list_changed is True
        assert caps.resources is None, f"no resources section in the persona, yet resources advertised: {caps.resources}"
        assert caps.prompts is None, f"no prompts section in the persona, yet prompts advertised: {caps.prompts}"
        assert caps.logging is not None, "the child offers logging: logging expected"


async def test_tools_only_child_gives_tools_only_capabilities(shims, bins, agent_kind):
    shim = shims(persona({"fixture": fixture(bins)}, tools={"allow": ["fixture__echo"]}, resources={"allow": ["*"]}, prompts={"allow": ["*"]}))
    async with connect(shim, agent_kind) as agent:
        caps = agent.initialize_result.capabilities
        assert caps.tools is not None and caps.tools.list_changed is True
        assert caps.resources is None, f"no child offers resources, yet resources advertised: {caps.resources}"
        assert caps.prompts is None, f"no child offers prompts, yet prompts advertised: {caps.prompts}"
        assert caps.logging is None, f"no child offers logging, yet logging advertised: {caps.logging}"
        assert caps.completions is None, f"no child offers completions, yet completions advertised: {caps.completions}"


async def test_initialize_is_answered_after_the_children_answered_theirs(shims, bins, state_dir):
    shim = shims(
        persona(
            {"fixture": fixture(bins), "slow": everything("slow", state_dir, "--startup-delay", "2")},
            tools={"allow": ["*"]},
            resources={"allow": ["*"]},
        )
    )
    async with connect(shim) as agent:
        caps = agent.initialize_result.capabilities
        assert caps.resources is not None, "only the slow child offers resources: the shim answered before it was ready"
        names = await agent.tool_names()
        assert "slow__add" in names, f"the slow child's tools must be listed right after initialize: {names}"
    seconds, _ = _timing(shim, "initialize")
    assert seconds >= 1.8, f"initialize answered after {seconds:.2f} s, before the child (2 s startup delay) could have answered"


async def test_initialize_is_bounded_by_initialize_seconds(shims, bins):
    shim = shims(
        persona(
            {"fixture": fixture(bins), "stuck": fixture(bins, "--never-initialize")},
            tools={"allow": ["*"]},
            timeouts={"initializeSeconds": 2},
        )
    )
    async with connect(shim) as agent:
        names = await agent.tool_names()
        assert "fixture__echo" in names, f"the healthy child's tools must be there: {names}"
        assert not any(n.startswith("stuck__") for n in names), f"the stuck child has no tools: {names}"
    seconds, _ = _timing(shim, "initialize")
    assert seconds <= 6, f"initialize took {seconds:.2f} s with initializeSeconds = 2"


async def test_auto_mode_discover_probe_is_answered_at_once_and_the_agent_goes_stateless(shims, bins):
    shim = shims(persona({"fixture": fixture(bins)}, tools={"allow": ["fixture__echo"]}))
    async with connect(shim, "modern") as agent:
        assert agent.protocol_version == "2026-07-28", f"auto mode negotiated {agent.protocol_version}"
        result = await agent.call_tool("fixture__echo", {"x": 1})
        assert not result.is_error
    seconds, response = _timing(shim, "server/discover")
    assert "result" in response, f"server/discover must be answered, got {response}"
    assert "2026-07-28" in response["result"]["supportedVersions"]
    assert seconds < 1.0, f"server/discover answered after {seconds:.2f} s; it must be answered at once"