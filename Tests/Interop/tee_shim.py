#!/usr/bin/env python3
"""Runs a command (persona-shim) with its stdin and stdout relayed, and records every line.

Usage: tee_shim.py LOG -- COMMAND [ARGS...]

Bytes are passed through unchanged in both directions. Each complete line is also appended to LOG as
one JSON object: {"t": unix time, "dir": "in" (agent -> shim) or "out" (shim -> agent), "line": text}.
The command's stderr is inherited. The exit status is the command's. SIGTERM, SIGINT and SIGHUP are
passed on to the command, so the client's shutdown sequence reaches persona-shim unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 64
    log_path = sys.argv[1]
    command = sys.argv[3:]
    log = open(log_path, "a", encoding="utf-8")
    lock = threading.Lock()

    def record(direction: str, raw: bytes) -> None:
        entry = {"t": time.time(), "dir": direction, "line": raw.rstrip(b"\n").decode("utf-8", "backslashreplace")}
        with lock:
            log.write(json.dumps(entry) + "\n")
            log.flush()

    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def forward_signal(signum: int, _frame: object) -> None:
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward_signal)

    def pump_stdin() -> None:
        assert child.stdin is not None
        pending = b""
        try:
            while True:
                chunk = os.read(0, 65536)
                if not chunk:
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    record("in", line + b"\n")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(child.stdin.fileno(), view) :]
        except (BrokenPipeError, OSError):
            pass
        finally:
            try:
                child.stdin.close()
            except OSError:
                pass

    threading.Thread(target=pump_stdin, daemon=True).start()

    assert child.stdout is not None
    sink = sys.stdout.buffer
    pending = b""
    while True:
        chunk = os.read(child.stdout.fileno(), 65536)
        if not chunk:
            break
        # Record first, then pass on: once the agent has a message, the log has it too.
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            record("out", line + b"\n")
        try:
            sink.write(chunk)
            sink.flush()
        except (BrokenPipeError, OSError):
            pass
    if pending:
        record("out", pending)
    status = child.wait()
    with lock:
        log.write(json.dumps({"t": time.time(), "dir": "exit", "line": str(status)}) + "\n")
        log.close()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the stdin thread may still be blocked in read(); do not wait for it
