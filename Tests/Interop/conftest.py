"""pytest wiring for the interop suite.

- Finds the persona-shim binaries (PERSONA_SHIM_BIN_DIR, else `swift build --show-bin-path`); the run stops with a
  clear message if they are missing.
- `shims` makes persona-shim runs for a test; after the test body, every message each run wrote to the agent is
  validated against the negotiated revision's JSON Schema, and any invalid message fails the test (see
  schema_check.py). A failing test also gets the tail of persona-shim's stderr attached.
- `agent_kind` runs a test once with the SDK's ClientSession and once with its high-level Client, both over the
  initialize handshake (the legacy era); test_eras.py covers the Client's auto mode, which speaks 2026-07-28.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import harness

SHIMS_KEY = pytest.StashKey[list]()
BINS: Path | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global BINS
    try:
        BINS = harness.bin_dir()
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.exit(f"interop: cannot find the persona-shim binaries (set PERSONA_SHIM_BIN_DIR): {e}", returncode=3)
    missing = [name for name in ("persona-shim", "persona-fixture") if not (BINS / name).is_file()]
    if missing:
        pytest.exit(
            f"interop: {', '.join(missing)} not in {BINS}; build first (swift build) or set PERSONA_SHIM_BIN_DIR",
            returncode=3,
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"persona-shim binaries: {BINS}"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def bins() -> Path:
    assert BINS is not None
    return BINS


@pytest.fixture(params=["session", "client"])
def agent_kind(request: pytest.FixtureRequest) -> str:
    """ClientSession over stdio_client, or the high-level Client over the handshake (mode="legacy")."""
    return request.param


class Shims:
    """Makes persona-shim runs for one test, each in its own folder."""

    def __init__(self, root: Path, bins: Path, registry: list[harness.Shim]) -> None:
        self.root = root
        self.bins = bins
        self.registry = registry

    def __call__(self, persona: dict[str, Any], label: str | None = None) -> harness.Shim:
        label = label or f"shim{len(self.registry) + 1}"
        shim = harness.Shim(self.root / label, self.bins, persona)
        self.registry.append(shim)
        return shim


@pytest.fixture
def shims(request: pytest.FixtureRequest, tmp_path: Path, bins: Path) -> Shims:
    registry: list[harness.Shim] = []
    request.node.stash[SHIMS_KEY] = registry
    return Shims(tmp_path, bins, registry)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Where everything_server.py instances record what reached them."""
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary git repository with one commit, for mcp-server-git."""
    repo = tmp_path_factory.mktemp("git-repo")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=Interop", "-c", "user.email=interop@example.com", "-c", "init.defaultBranch=main", *args],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    (repo / "README.md").write_text("interop fixture repository\n", encoding="utf-8")
    git("add", "README.md")
    git("commit", "-q", "-m", "Initial commit for interop tests")
    (repo / "README.md").write_text("interop fixture repository\nchanged line\n", encoding="utf-8")
    return repo


def _unwrap(error: BaseException) -> BaseException:
    """The first real failure inside anyio's exception groups, so reports name the cause rather than 'TaskGroup'."""
    while isinstance(error, BaseExceptionGroup):
        inner = [e for e in error.exceptions if not isinstance(e, (GeneratorExit, KeyboardInterrupt))]
        if not inner:
            break
        leaf = inner[0]
        if len(inner) > 1:
            leaf.add_note(f"({len(inner) - 1} more exception(s) in the same group: {[repr(e) for e in inner[1:]]})")
        error = leaf
    return error


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After the test body: validate every message persona-shim wrote to the agent; fail the test on any invalid one."""
    failure: BaseException | None = None
    try:
        result = yield
    except BaseException as e:  # noqa: BLE001 - re-raised below, with notes
        failure = e
        result = None
    problems: list[str] = []
    shim_list: list[harness.Shim] = item.stash.get(SHIMS_KEY, [])
    for shim in shim_list:
        try:
            problems += shim.traffic().validate()
        except Exception as e:  # noqa: BLE001 - a broken log is a failure too
            problems.append(f"{shim.log_path}: could not validate: {type(e).__name__}: {e}")
    message = ""
    if problems:
        shown = "\n".join(problems[:15])
        more = f"\n... and {len(problems) - 15} more" if len(problems) > 15 else ""
        message = f"{len(problems)} message(s) from persona-shim to the agent are not valid MCP:\n{shown}{more}"
    if failure is not None:
        failure = _unwrap(failure)
        if message:
            failure.add_note(message)
        for shim in shim_list:
            tail = shim.stderr_tail()
            if tail:
                failure.add_note(f"--- persona-shim stderr ({shim.directory.name}), last lines:\n{tail}")
        raise failure
    if message:
        raise AssertionError(message)
    return result
