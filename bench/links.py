"""Benchmark `GET /api/links/{id}/` and the documented PUT against a bare Starlette app.

Both servers run as one uvicorn worker (uvloop, httptools) on 127.0.0.1, and wrk drives them
in the same run, alternating, so the ratio of request rates holds on a noisy machine. See
bench/README.md for how to run it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET_ID = "bench-secret-id"
SECRET_PASSWORD = "bench-secret-password"
STARTUP_SECONDS = 30


@dataclass
class Measurement:
    target: str
    operation: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            httpx.get(url, auth=(SECRET_ID, SECRET_PASSWORD), timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not respond within {STARTUP_SECONDS} s")


def start_bare(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "bench.bare_app:app",
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT)


def start_vinculo(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VINCULO_DATA_DIR": str(data_dir),
        "VINCULO_PORT": str(port),
        "VINCULO_SANDBOX_SECRET_ID": SECRET_ID,
        "VINCULO_SANDBOX_SECRET_PASSWORD": SECRET_PASSWORD,
        # The GET link is recurrent. With jobs on, its historical update (a year of sandbox
        # data, about 128 ms of CPU) would run in the measured server's event loop.
        "VINCULO_JOBS_IN_SERVER": "false",
    }
    env.pop("VINCULO_DATABASE_URL", None)
    # Logs stay at the default level (INFO, one line per credential update) and go to a file.
    log = (data_dir / "server.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "vinculo", "serve"], cwd=data_dir, env=env, stdout=log, stderr=log
    )


def seed_links(url: str) -> tuple[str, str]:
    """Create the link that GET reads and the single Colombian link that PUT updates."""
    auth = (SECRET_ID, SECRET_PASSWORD)
    recurrent = httpx.post(
        f"{url}/api/links/",
        json={"institution": "erebor_mx_retail", "username": "bench_get", "password": "pw"},
        auth=auth,
    )
    single = httpx.post(
        f"{url}/api/links/",
        json={
            "institution": "gringotts_co_retail",
            "username": "bench_put",
            "password": "pw",
            "username_type": "001",
            "access_mode": "single",
        },
        auth=auth,
    )
    for response in (recurrent, single):
        response.raise_for_status()
    return recurrent.json()["id"], single.json()["id"]


_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, *, operation: str, target: str, args: argparse.Namespace) -> Measurement:
    token = base64.b64encode(f"{SECRET_ID}:{SECRET_PASSWORD}".encode()).decode()
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
        "-H", f"Authorization: Basic {token}",
    ]  # fmt: skip
    if operation == "PUT":
        command += ["-s", str(ROOT / "bench" / "put.lua")]
    command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latencies = {
        percent: float(value) * _UNITS_MS[unit] for percent, value, unit in _LATENCY.findall(output)
    }
    errors_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        print(f"  {target} {operation}: {socket_errors.group(0)}", file=sys.stderr)
    return Measurement(target, operation, rate, latencies["50"], latencies["99"], errors)


def median_of(measurements: list[Measurement]) -> Measurement:
    first = measurements[0]
    return Measurement(
        first.target,
        first.operation,
        statistics.median(m.requests_per_second for m in measurements),
        statistics.median(m.p50_ms for m in measurements),
        statistics.median(m.p99_ms for m in measurements),
        sum(m.errors for m in measurements),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per target")
    parser.add_argument("--output", type=Path, help="also write the medians as JSON here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    data_dir = Path(tempfile.mkdtemp(prefix="vinculo-bench-"))
    bare_port, vinculo_port = free_port(), free_port()
    bare = start_bare(bare_port)
    vinculo = start_vinculo(vinculo_port, data_dir)
    try:
        bare_url = f"http://127.0.0.1:{bare_port}"
        vinculo_url = f"http://127.0.0.1:{vinculo_port}"
        wait_until_up(f"{bare_url}/", bare)
        wait_until_up(f"{vinculo_url}/api/", vinculo)
        get_id, put_id = seed_links(vinculo_url)
        targets = {
            ("bare", "GET"): f"{bare_url}/api/links/{get_id}/",
            ("vinculo", "GET"): f"{vinculo_url}/api/links/{get_id}/",
            ("bare", "PUT"): f"{bare_url}/api/links/{put_id}/",
            ("vinculo", "PUT"): f"{vinculo_url}/api/links/{put_id}/",
        }
        runs: dict[tuple[str, str], list[Measurement]] = {key: [] for key in targets}
        for _ in range(args.rounds):
            for (target, operation), url in targets.items():
                measurement = run_wrk(url, operation=operation, target=target, args=args)
                runs[(target, operation)].append(measurement)
    finally:
        for process in (bare, vinculo):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)

    medians = {key: median_of(values) for key, values in runs.items()}
    print("| target | operation | req/s | p50 ms | p99 ms | non-2xx | ratio to bare |")
    print("|---|---|---|---|---|---|---|")
    for (target, operation), measurement in medians.items():
        baseline = medians[("bare", operation)].requests_per_second
        ratio = measurement.requests_per_second / baseline
        print(
            f"| {target} | {operation} | {measurement.requests_per_second:,.0f} "
            f"| {measurement.p50_ms:.2f} | {measurement.p99_ms:.2f} | {measurement.errors} "
            f"| {ratio:.2f}x |"
        )
    if args.output:
        args.output.write_text(json.dumps([asdict(m) for m in medians.values()], indent=2))


if __name__ == "__main__":
    main()
