"""logging/setLevel fan-out and notifications/message forwarding."""

from __future__ import annotations

from harness import connect, everything, is_notification, notifications_out, persona, read_events, wait_for_out


async def test_set_level_is_answered_empty_and_fanned_out(shims, state_dir, agent_kind):
    shim = shims(
        persona(
            {"one": everything("one", state_dir), "two": everything("two", state_dir)},
            tools={"allow": ["*__log"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        await agent.set_logging_level("warning")
        request = shim.traffic().agent_requests("logging/setLevel")[0]
        responses = shim.traffic().responses_to(request["id"])
        assert responses and responses[0].get("result") == {}, f"logging/setLevel must be answered {{}}: {responses}"

        def levels(server: str) -> list[str]:
            return [e["level"] for e in read_events(state_dir, server) if e["event"] == "setLevel"]

        try:
            await agent.wait_until(lambda: levels("one") and levels("two"), 5, "both servers to get logging/setLevel")
        except AssertionError as e:
            raise AssertionError(f"{e}: one got {levels('one')}, two got {levels('two')}") from None
        assert levels("one") == ["warning"] and levels("two") == ["warning"], f"one: {levels('one')}, two: {levels('two')}"


async def test_messages_at_or_above_the_level_are_forwarded_with_the_server_as_logger(shims, state_dir, agent_kind):
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__log"]}))
    async with connect(shim, agent_kind) as agent:
        await agent.set_logging_level("warning")
        for level in ("debug", "info", "notice", "warning", "error", "critical"):
            await agent.call_tool("everything__log", {"level": level, "message": f"at {level}"})
        await agent.call_tool("everything__log", {"level": "error", "message": "named", "logger": "db"})
        await wait_for_out(shim, is_notification("notifications/message", data="named"), 5, "the last log message")
        await agent.wait_until(lambda: len(agent.seen.logs) >= 4, 5, "the SDK's logging callback to get 4 messages")
    got = [(n["params"]["level"], n["params"].get("logger"), n["params"]["data"]) for n in notifications_out(shim, "notifications/message")]
    assert got == [
        ("warning", "everything", "at warning"),
        ("error", "everything", "at error"),
        ("critical", "everything", "at critical"),
        ("error", "everything/db", "named"),
    ], f"notifications/message forwarded to the agent: {got}"


async def test_default_level_then_raised(shims, state_dir):
    """After setLevel error, warnings stop; lowering to debug lets everything through."""
    shim = shims(persona({"everything": everything("everything", state_dir)}, tools={"allow": ["everything__log"]}))
    async with connect(shim) as agent:
        await agent.set_logging_level("error")
        await agent.call_tool("everything__log", {"level": "warning", "message": "w1"})
        await agent.call_tool("everything__log", {"level": "error", "message": "e1"})
        await agent.set_logging_level("debug")
        await agent.call_tool("everything__log", {"level": "debug", "message": "d2"})
        await wait_for_out(shim, is_notification("notifications/message", data="d2"), 5, "the debug message after setLevel debug")
    data = [n["params"]["data"] for n in notifications_out(shim, "notifications/message")]
    assert data == ["e1", "d2"], f"messages forwarded: {data}"
