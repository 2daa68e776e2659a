"""Progress notifications and cancellation through the shim."""

from __future__ import annotations

import anyio
import pytest

from harness import connect, everything, fixture, persona, read_events, text_of


def progress_persona(bins, state_dir):
    return persona(
        {"everything": everything("everything", state_dir), "fixture": fixture(bins, "--stderr-chatter")},
        tools={"allow": ["everything__long_task", "everything__late_progress", "fixture__slow", "fixture__echo"]},
    )


def _progress_for(shim, token):
    return [n for n in shim.traffic().notifications("notifications/progress") if n["params"].get("progressToken") == token]


async def test_progress_reaches_the_sdk_callback_with_the_agents_token(shims, bins, state_dir, agent_kind):
    shim = shims(progress_persona(bins, state_dir))
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with connect(shim, agent_kind) as agent:
        result = await agent.call_tool("everything__long_task", {"steps": 4, "delay_ms": 30}, progress_callback=on_progress)
        assert text_of(result) == "done 4"
        await agent.wait_until(lambda: len(updates) >= 4, 5, "4 progress callbacks")
    assert [u[0] for u in updates] == [1, 2, 3, 4] and all(u[1] == 4 for u in updates), f"progress seen by the SDK: {updates}"
    request = shim.traffic().agent_requests("tools/call")[-1]
    token = request["params"]["_meta"]["progressToken"]
    forwarded = [n["params"]["progressToken"] for n in shim.traffic().notifications("notifications/progress")]
    assert forwarded == [token] * 4, f"every progress must carry the agent's token {token!r}: {forwarded}"
    assert all(type(t) is type(token) for t in forwarded), "the token must keep its JSON type"


@pytest.mark.parametrize("token", ["interop-token-é", "7", 7, 9007199254740991], ids=["string", "digit-string", "small-int", "large-int"])
async def test_progress_token_keeps_its_value_and_type(shims, bins, state_dir, token):
    shim = shims(progress_persona(bins, state_dir))
    async with connect(shim) as agent:
        await agent.call_tool("everything__long_task", {"steps": 3, "delay_ms": 20}, meta={"progressToken": token})
        await anyio.sleep(0.3)
    tokens = [n["params"]["progressToken"] for n in shim.traffic().notifications("notifications/progress")]
    assert tokens == [token] * 3, f"progress tokens forwarded for the agent's {token!r}: {tokens!r}"
    assert all(type(t) is type(token) for t in tokens), f"token type changed: {[type(t).__name__ for t in tokens]}"


async def test_progress_after_the_final_response_is_dropped(shims, bins, state_dir):
    shim = shims(progress_persona(bins, state_dir))
    async with connect(shim) as agent:
        result = await agent.call_tool("everything__late_progress", {"delay_ms": 200}, meta={"progressToken": "late-1"})
        assert text_of(result) == "answered"
        await anyio.sleep(1.5)  # the server sends its late progress 0.2 s after answering
    late = _progress_for(shim, "late-1")
    assert late == [], f"progress for a request already answered must be dropped: {late}"


async def test_progress_for_an_unknown_token_is_dropped(shims, bins, state_dir):
    """Issue 4: progress for unknown tokens is dropped (some clients tear down the connection on one)."""
    shim = shims(progress_persona(bins, state_dir))
    async with connect(shim) as agent:
        await agent.call_tool("everything__late_progress", {"delay_ms": 100})
        await anyio.sleep(1.2)
    unknown = _progress_for(shim, "no-such-token-everything")
    assert unknown == [], f"progress with a token the agent never issued must be dropped: {unknown}"


async def test_cancellation_reaches_the_server(shims, bins, state_dir, agent_kind):
    shim = shims(progress_persona(bins, state_dir))
    async with connect(shim, agent_kind) as agent:
        await agent.list_tools()  # every child is ready: the timing below starts at the child
        finished = []
        with anyio.move_on_after(1.0) as scope:
            finished.append(await agent.call_tool("everything__long_task", {"steps": 60, "delay_ms": 100}))
        assert scope.cancelled_caught and not finished, "the call should still have been running after 1 s"
        await agent.wait_until(
            lambda: any(m.get("method") == "notifications/cancelled" for m in (e.message for e in shim.traffic().inbound()) if isinstance(m, dict)),
            3,
            "the SDK to send notifications/cancelled (test precondition)",
        )
        await agent.wait_until(
            lambda: any(e["event"] == "cancelled" for e in read_events(state_dir, "everything")),
            5,
            "the server to see the cancellation of long_task",
        )
        request_id = shim.traffic().agent_requests("tools/call")[-1]["id"]
        await anyio.sleep(0.5)
        assert shim.traffic().responses_to(request_id) == [], "a cancelled request must not be answered to the agent"
        still = await agent.call_tool("everything__long_task", {"steps": 1, "delay_ms": 1})
        assert text_of(still) == "done 1", "the session must keep working after a cancellation"


async def test_late_response_to_a_cancelled_request_is_not_delivered(shims, bins, state_dir, agent_kind):
    shim = shims(progress_persona(bins, state_dir))
    async with connect(shim, agent_kind) as agent:
        await agent.list_tools()  # every child is ready: the timing below starts at the child
        with anyio.move_on_after(0.4) as scope:
            await agent.call_tool("fixture__slow", {"ms": 1500})
        assert scope.cancelled_caught, "fixture__slow answered before it was cancelled (test precondition)"
        request_id = shim.traffic().agent_requests("tools/call")[-1]["id"]
        await anyio.sleep(2.0)  # the fixture answers 1.5 s after the call, cancelled or not
        assert shim.traffic().responses_to(request_id) == [], f"the late response to cancelled request {request_id!r} was delivered"
        echoed = await agent.call_tool("fixture__echo", {"after": "cancel"})
        assert text_of(echoed) == '{"after":"cancel"}', "the session must keep working after a cancellation"
    assert "received notifications/cancelled" in shim.stderr_path.read_text(errors="replace"), (
        "the fixture never received notifications/cancelled (its --stderr-chatter lines are forwarded to the shim's stderr)"
    )
