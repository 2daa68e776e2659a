"""Server-to-client requests (sampling, elicitation, roots) through the shim, and the persona's serverRequests."""

from __future__ import annotations

import json

import anyio
import mcp_types as types

from harness import Callbacks, connect, everything, persona, read_events, text_of

# A refused request must come back to the server as an error quickly, not hang the tool call.
CALL_TIMEOUT = 10.0
ROOTS = [types.Root(uri="file:///tmp/interop-root", name="interop root")]


def requests_persona(state_dir, server_requests=None):
    return persona(
        {"everything": everything("everything", state_dir)},
        tools={"allow": ["everything__ask_model", "everything__ask_user", "everything__list_roots"]},
        server_requests=server_requests,
    )


def sent_to_agent(shim, method):
    return shim.traffic().server_requests(method)


# ---- sampling (default: refused)


async def test_sampling_is_refused_by_default(shims, state_dir, agent_kind):
    shim = shims(requests_persona(state_dir))
    async with connect(shim, agent_kind, Callbacks(sampling=True)) as agent:
        result = await agent.call_tool("everything__ask_model", {"prompt": "hi"}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("sampling refused: code="), (
            f"the server must get a JSON-RPC error for sampling (persona default false): {text_of(result)!r}"
        )
        assert agent.seen.sampling == [], "the agent's sampling callback must not be called"
    assert sent_to_agent(shim, "sampling/createMessage") == []


async def test_sampling_is_forwarded_when_the_persona_allows_it(shims, state_dir, agent_kind):
    shim = shims(requests_persona(state_dir, {"sampling": True}))
    async with connect(shim, agent_kind, Callbacks(sampling=True)) as agent:
        result = await agent.call_tool("everything__ask_model", {"prompt": "what is 2+2?"}, read_timeout=CALL_TIMEOUT)
        assert not result.is_error, text_of(result)
        assert text_of(result) == "model answer to: what is 2+2?", f"the agent's answer must reach the server: {text_of(result)!r}"
        assert len(agent.seen.sampling) == 1
    assert len(sent_to_agent(shim, "sampling/createMessage")) == 1


async def test_sampling_is_refused_when_the_agent_did_not_declare_it(shims, state_dir):
    shim = shims(requests_persona(state_dir, {"sampling": True}))
    async with connect(shim, "session", Callbacks(sampling=False)) as agent:
        result = await agent.call_tool("everything__ask_model", {"prompt": "hi"}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("sampling refused: code="), text_of(result)
    assert sent_to_agent(shim, "sampling/createMessage") == [], "never ask an agent for a capability it did not declare"


# ---- elicitation (default: allowed)


async def test_elicitation_is_forwarded_by_default(shims, state_dir, agent_kind):
    shim = shims(requests_persona(state_dir))
    async with connect(shim, agent_kind, Callbacks(elicitation=True)) as agent:
        result = await agent.call_tool("everything__ask_user", {"question": "Favourite number?"}, read_timeout=CALL_TIMEOUT)
        assert not result.is_error, text_of(result)
        assert json.loads(text_of(result)) == {"action": "accept", "content": {"answer": "forty-two"}}
        # The person is told which server asks, so no server can pass for the shim or another server.
        assert [e.message for e in agent.seen.elicitation] == ['[server "everything" asks] Favourite number?']
        request = sent_to_agent(shim, "elicitation/create")[0]
        assert request["params"]["requestedSchema"]["properties"]["answer"]["type"] == "string", f"form mode request: {request}"


async def test_elicitation_is_refused_when_the_persona_forbids_it(shims, state_dir):
    shim = shims(requests_persona(state_dir, {"elicitation": False}))
    async with connect(shim, "session", Callbacks(elicitation=True)) as agent:
        result = await agent.call_tool("everything__ask_user", {"question": "?"}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("elicitation refused: code="), text_of(result)
        assert agent.seen.elicitation == []
    assert sent_to_agent(shim, "elicitation/create") == []


async def test_elicitation_is_refused_when_the_agent_did_not_declare_it(shims, state_dir):
    shim = shims(requests_persona(state_dir))
    async with connect(shim, "session", Callbacks()) as agent:
        result = await agent.call_tool("everything__ask_user", {"question": "?"}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("elicitation refused: code="), text_of(result)
    assert sent_to_agent(shim, "elicitation/create") == []


# ---- roots (default: allowed)


async def test_roots_are_forwarded_by_default(shims, state_dir, agent_kind):
    shim = shims(requests_persona(state_dir))
    async with connect(shim, agent_kind, Callbacks(roots=ROOTS)) as agent:
        result = await agent.call_tool("everything__list_roots", {}, read_timeout=CALL_TIMEOUT)
        assert not result.is_error, text_of(result)
        assert json.loads(text_of(result)) == [{"uri": "file:///tmp/interop-root", "name": "interop root"}]
        assert agent.seen.roots == 1


async def test_roots_are_refused_when_the_persona_forbids_them(shims, state_dir):
    shim = shims(requests_persona(state_dir, {"roots": False}))
    async with connect(shim, "session", Callbacks(roots=ROOTS)) as agent:
        result = await agent.call_tool("everything__list_roots", {}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("roots refused: code="), text_of(result)
        assert agent.seen.roots == 0
    assert sent_to_agent(shim, "roots/list") == []


async def test_roots_are_refused_when_the_agent_did_not_declare_them(shims, state_dir):
    shim = shims(requests_persona(state_dir))
    async with connect(shim, "session", Callbacks()) as agent:
        result = await agent.call_tool("everything__list_roots", {}, read_timeout=CALL_TIMEOUT)
        assert result.is_error and text_of(result).startswith("roots refused: code="), text_of(result)
    assert sent_to_agent(shim, "roots/list") == []


async def test_roots_list_changed_fans_out(shims, state_dir):
    """Issue 4: notifications/roots/list_changed from the agent fans out to the children."""
    shim = shims(
        persona(
            {"one": everything("one", state_dir), "two": everything("two", state_dir)},
            tools={"allow": ["*__list_roots"]},
        )
    )
    async with connect(shim, "session", Callbacks(roots=ROOTS)) as agent:
        await agent.send_roots_list_changed()
        await agent.wait_until(
            lambda: all(any(e["event"] == "roots_list_changed" for e in read_events(state_dir, s)) for s in ("one", "two")),
            5,
            "both servers to get notifications/roots/list_changed",
        )


# ---- two servers, same ids


async def test_two_servers_using_the_same_request_ids_never_collide(shims, state_dir, agent_kind):
    shim = shims(
        persona(
            {"one": everything("one", state_dir), "two": everything("two", state_dir)},
            tools={"allow": ["*__ask_model", "*__ask_user"]},
            server_requests={"sampling": True, "elicitation": True},
        )
    )

    async def slow_answer(params: types.CreateMessageRequestParams) -> str:
        await anyio.sleep(0.5)  # keep both requests in flight at once
        first = params.messages[0].content
        return f"answer for {first.text}"

    results: dict[str, str] = {}
    async with connect(shim, agent_kind, Callbacks(sampling=True, elicitation=True, sampling_answer=slow_answer, elicitation_echo=True)) as agent:

        async def ask(server: str) -> None:
            result = await agent.call_tool(f"{server}__ask_model", {"prompt": f"from {server}"}, read_timeout=CALL_TIMEOUT)
            results[server] = text_of(result)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "one")
            tg.start_soon(ask, "two")
        assert results == {"one": "answer for from one", "two": "answer for from two"}, f"answers crossed: {results}"

        answers: dict[str, str] = {}

        async def elicit(server: str) -> None:
            result = await agent.call_tool(f"{server}__ask_user", {"question": server}, read_timeout=CALL_TIMEOUT)
            answers[server] = text_of(result)

        async with anyio.create_task_group() as tg:
            tg.start_soon(elicit, "one")
            tg.start_soon(elicit, "two")
        got = {server: json.loads(a) for server, a in answers.items()}
        # Each question reaches the person marked with the server that asks it.
        assert got == {
            "one": {"action": "accept", "content": {"answer": 're: [server "one" asks] one'}},
            "two": {"action": "accept", "content": {"answer": 're: [server "two" asks] two'}},
        }, f"elicitation answers crossed: {got}"
    for method in ("sampling/createMessage", "elicitation/create"):
        ids = [json.dumps(r["id"]) for r in shim.traffic().server_requests(method)]
        assert len(ids) == 2, f"expected one {method} per server: {ids}"
        assert ids[0] != ids[1], f"both servers' {method} requests reached the agent with the same id {ids[0]}"
