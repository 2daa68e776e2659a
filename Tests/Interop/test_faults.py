"""A child that crashes mid-call: errors at once, restart with backoff, tools back, agent told."""

from __future__ import annotations

import time
from datetime import datetime

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from harness import connect, everything, fixture, is_notification, persona, text_of, wait_for_out


def _ts(record: dict) -> float:
    return datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp()


async def test_crash_mid_call_errors_at_once_restarts_and_tools_come_back(shims, bins, state_dir, agent_kind):
    shim = shims(
        persona(
            {"fixture": fixture(bins), "everything": everything("everything", state_dir)},
            tools={"allow": ["fixture__*", "everything__add"]},
        )
    )
    async with connect(shim, agent_kind) as agent:
        assert "fixture__echo" in await agent.tool_names()
        errors: dict[str, tuple[float, BaseException | None]] = {}

        async def call(name: str) -> None:
            start = time.monotonic()
            try:
                await agent.call_tool(name, {}, read_timeout=20)
            except MCPError as e:
                errors[name] = (time.monotonic() - start, e)
            else:
                errors[name] = (time.monotonic() - start, None)

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "fixture__hang")
            await anyio.sleep(0.3)
            tg.start_soon(call, "fixture__crash")
        crashed_at = time.time()
        for name in ("fixture__crash", "fixture__hang"):
            seconds, error = errors[name]
            assert error is not None, f"{name} was pending when the server crashed: it must get an error, got a result"
            assert seconds < 3.5, f"{name} got its error after {seconds:.1f} s; it must come at once"

        other = await agent.call_tool("everything__add", {"a": 1, "b": 1})
        assert other.structured_content == {"sum": 2}, "the other server keeps serving"

        await wait_for_out(shim, is_notification("notifications/tools/list_changed"), 15, "tools/list_changed after the restart")
        deadline = time.monotonic() + 15
        while "fixture__echo" not in (names := await agent.tool_names()):
            if time.monotonic() > deadline:
                pytest.fail(f"the restarted server's tools never came back: {names}")
            await anyio.sleep(0.5)
        echoed = await agent.call_tool("fixture__echo", {"back": True})
        assert text_of(echoed) == '{"back":true}', "the restarted server must serve calls"

    starts = [r for r in shim.audit() if r.get("event") == "child.start" and r.get("server") == "fixture"]
    assert len(starts) == 2, f"expected the fixture to be started twice (start + one restart): {starts}"
    delay = _ts(starts[1]) - crashed_at
    assert delay >= 0.8, f"restart came {delay:.2f} s after the crash; the backoff starts at 1 s"
