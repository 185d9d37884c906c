"""The unmodified Belvo Node SDK (npm `belvo`, pinned in js/package.json) against `vinculo serve`.

Each scenario in js/ drives the SDK through the session's live server, one step per line, and
ends with `N passed, 0 failed`: scenario.js covers links and institutions, data_scenario.js
accounts, transactions, balances and owners. Install the SDK with `npm ci` in tests/e2e/js.
Without Node.js or the installed SDK the test skips, but with `CI=true` it fails, so CI must
install both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.server import LiveServer

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
JS_DIR = REPOSITORY_ROOT / "tests" / "e2e" / "js"
SCENARIOS = ["scenario.js", "data_scenario.js"]
SDK_DIR = JS_DIR / "node_modules" / "belvo"
SCENARIO_TIMEOUT_SECONDS = 120
SUMMARY = re.compile(r"(\d+) passed, 0 failed")


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip the test, or fail it when `CI=true`, because CI must install what is missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, where it must be installed)")
    pytest.skip(reason)


def read_json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def pinned_sdk_version() -> str:
    dependencies = read_json(JS_DIR / "package.json")["dependencies"]
    assert isinstance(dependencies, dict), dependencies
    version = dependencies["belvo"]
    assert isinstance(version, str), version
    return version


def as_text(output: str | bytes | None) -> str:
    """Return captured output as text: a timeout leaves it as bytes even in text mode."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_node_sdk_scenario(request: pytest.FixtureRequest, scenario: str) -> None:
    node = shutil.which("node")
    if node is None:
        skip_unless_ci("node is not on PATH: install Node.js 20 to run the Belvo Node SDK test")
    if not (SDK_DIR / "package.json").is_file():
        skip_unless_ci(
            f"the Belvo Node SDK is not installed in {SDK_DIR.relative_to(REPOSITORY_ROOT)}: "
            f"run `npm ci` in {JS_DIR.relative_to(REPOSITORY_ROOT)}"
        )
    installed = read_json(SDK_DIR / "package.json")["version"]
    assert installed == pinned_sdk_version(), (
        f"belvo {installed} is installed but package.json pins {pinned_sdk_version()}: "
        f"run `npm ci` in {JS_DIR.relative_to(REPOSITORY_ROOT)}"
    )

    # Requested only now, so that a skip does not start the server.
    live_server: LiveServer = request.getfixturevalue("live_server")
    env = {
        **os.environ,
        "VINCULO_URL": live_server.url,
        "VINCULO_SECRET_ID": live_server.secret_id,
        "VINCULO_SECRET_PASSWORD": live_server.secret_password,
    }
    try:
        result = subprocess.run(
            [node, str((JS_DIR / scenario).relative_to(REPOSITORY_ROOT))],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=SCENARIO_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(
            f"{scenario} timed out after {SCENARIO_TIMEOUT_SECONDS} s. Output:\n"
            + as_text(timeout.stdout)
        )
    output = result.stdout
    lines = output.strip().splitlines()

    assert result.returncode == 0, f"{scenario} exited with {result.returncode}:\n{output}"
    assert lines, f"{scenario} printed nothing"
    summary = SUMMARY.fullmatch(lines[-1])
    assert summary is not None, f"unexpected last line {lines[-1]!r}:\n{output}"
    step_count = sum(1 for line in lines if line.startswith("ok "))
    assert int(summary.group(1)) == step_count, output
    assert step_count > 0, output
