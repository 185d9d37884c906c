"""Running the `vinculo` command as a user does: a child process with its own environment."""

from __future__ import annotations

import subprocess
import sys

# Long enough for a command that migrates a new database; a hung command fails the test.
CLI_TIMEOUT_SECONDS = 60


def run_vinculo(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run `vinculo ARGUMENTS` with `env`, capturing its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "vinculo", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )
