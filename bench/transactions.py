"""Benchmark the transactions list and retrieval on about a million stored transactions.

`vinculo sandbox seed` fills a SQLite file once, cached in `--data-dir`. Then `vinculo serve`
runs on it (one uvicorn worker on 127.0.0.1), and wrk sends each scenario's request over one
connection, one request at a time, because the figure of interest is the latency of one
request. Each list scenario is paired with the SELECT that returns the same page's rows, timed
with Python's `sqlite3` on the same file right after it. Every round runs all scenarios, so
the ratios hold on a noisy machine. See bench/README.md for how to run it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.links import free_port

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
STARTUP_SECONDS = 60
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "vinculo-bench-transactions"
PAGE_SIZE = 1000
# A page size that gives one link many pages, so a late page skips most of the link's rows.
SMALL_PAGE_SIZE = 100
# Links listed together with `link__in`: about 33,000 transactions with 36 months each.
LINKS_LISTED_TOGETHER = 20

# The rows of one list page, as `vinculo.transactions.repository.list_transactions` orders
# them, with the account that the API embeds in each transaction.
PAGE_SQL = """
SELECT transactions.body, accounts.body
FROM transactions JOIN accounts ON accounts.id = transactions.account_id
WHERE transactions.tenant_id = ? AND {condition}
ORDER BY transactions.value_date DESC, transactions.accounting_date DESC, transactions.id DESC
LIMIT ? OFFSET ?
"""


@dataclass
class Timing:
    """One scenario's latencies in milliseconds (the API's from wrk, the SELECT's timed here)
    and CPU times in microseconds (the server's per request, this process's per SELECT)."""

    scenario: str
    rows: int
    api_requests: int
    api_p50_ms: float
    api_p99_ms: float
    api_cpu_us: float
    select_p50_ms: float | None
    select_p99_ms: float | None
    select_cpu_us: float | None


def percentile(values: list[float], percent: float) -> float:
    """Return the nearest-rank percentile of `values`."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[rank]


def process_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process `pid`, read from `/proc/<pid>/stat`."""
    # After the command name in brackets, utime and stime are the 12th and 13th fields.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli_environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "VINCULO_DATA_DIR": str(data_dir)}
    for name in ("VINCULO_DATABASE_URL", "VINCULO_MASTER_KEY", "VINCULO_MODE"):
        env.pop(name, None)
    return env


def seed_once(data_dir: Path, *, links: int, months: int) -> dict[str, Any]:
    """Seed `data_dir` unless an earlier run seeded it with the same plan; return the record."""
    record_path = data_dir / "seed.json"
    if record_path.exists():
        record: dict[str, Any] = json.loads(record_path.read_text())
        if record["links"] == links and record["months"] == months:
            return record
        sys.exit(
            f"{data_dir} holds a seed of {record['links']} links and {record['months']} months; "
            "remove it or pass another --data-dir."
        )

    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "vinculo", "sandbox", "seed",
        "--links", str(links), "--months", str(months), "--tenant", TENANT,
    ]  # fmt: skip
    print(f"Seeding {links} links into {data_dir} ...", file=sys.stderr)
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=data_dir, env=cli_environment(data_dir), capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"vinculo sandbox seed failed:\n{completed.stderr}")

    summary = next(line for line in completed.stdout.splitlines() if line.startswith("Seeded "))
    transactions = int(re.search(r"([\d,]+) transactions", summary)[1].replace(",", ""))  # type: ignore[index]
    record = {
        "links": links,
        "months": months,
        "transactions": transactions,
        "seconds": round(elapsed, 1),
        "summary": summary,
        "date": date.today().isoformat(),
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
    }
    record_path.write_text(json.dumps(record, indent=2))
    return record


def create_key(data_dir: Path) -> tuple[str, str]:
    # A seed cached by an older release needs this release's migrations before `keys create`,
    # which only checks the schema.
    subprocess.run(
        [sys.executable, "-m", "vinculo", "migrate"],
        cwd=data_dir,
        env=cli_environment(data_dir),
        capture_output=True,
        check=True,
    )
    completed = subprocess.run(
        [sys.executable, "-m", "vinculo", "keys", "create", "--tenant", TENANT, "--json"],
        cwd=data_dir,
        env=cli_environment(data_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(completed.stdout)
    return key["secret_id"], key["secret_password"]


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **cli_environment(data_dir),
        "VINCULO_PORT": str(port),
        "VINCULO_HOST": "127.0.0.1",
        # The seeded links are recurrent and due, so with jobs on, the measured server would
        # refresh them (a year of sandbox data each) between the requests it serves.
        "VINCULO_JOBS_IN_SERVER": "false",
    }
    # The default log level (INFO, one line per retrieval), to a file.
    log = (data_dir / "server.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "vinculo", "serve"], cwd=data_dir, env=env, stdout=log, stderr=log
    )


def wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vinculo serve exited with {process.returncode}")
        try:
            client.get("/api/").raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"vinculo serve did not respond within {STARTUP_SECONDS} s")


@dataclass
class Scenario:
    """One request, and the SQL that returns the same rows (None for a retrieval)."""

    name: str
    method: str
    path: str
    params: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    sql: str | None = None
    sql_params: tuple[Any, ...] = ()


def list_scenario(
    name: str,
    tenant_id: str,
    link_ids: list[str],
    *,
    page: int,
    page_size: int = PAGE_SIZE,
    extra: dict[str, str] | None = None,
    sql_condition: str = "",
    sql_params: tuple[Any, ...] = (),
) -> Scenario:
    """Build a list request and the SELECT of the same page: `link` for one link,
    `link__in` for several."""
    if len(link_ids) == 1:
        params = {"link": link_ids[0]}
        condition = "transactions.link_id = ?"
    else:
        params = {"link__in": ",".join(link_ids)}
        condition = f"transactions.link_id IN ({', '.join('?' * len(link_ids))})"
    params |= {"page_size": str(page_size), "page": str(page), **(extra or {})}
    return Scenario(
        name,
        "GET",
        "/api/transactions/",
        params=params,
        sql=PAGE_SQL.format(condition=condition + sql_condition),
        sql_params=(tenant_id, *link_ids, *sql_params, page_size, (page - 1) * page_size),
    )


def pick_links(database: Path) -> tuple[str, list[tuple[str, int]]]:
    """Return the bench tenant's id and its links with their transaction counts, the link with
    most transactions first."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        tenant_id = connection.execute(
            "SELECT id FROM tenants WHERE name = ?", (TENANT,)
        ).fetchone()[0]
        rows = connection.execute(
            "SELECT link_id, count(*) AS n FROM transactions WHERE tenant_id = ? "
            "GROUP BY link_id ORDER BY n DESC, link_id",
            (tenant_id,),
        ).fetchall()
    return tenant_id, [(row[0], row[1]) for row in rows]


def build_scenarios(tenant_id: str, links: list[tuple[str, int]], today: date) -> list[Scenario]:
    """Build the scenarios on the link with most transactions, which needs at least two pages
    of `PAGE_SIZE`, and on the next `LINKS_LISTED_TOGETHER` links."""
    link, count = links[0]
    if count <= PAGE_SIZE:
        sys.exit(f"The largest link has {count} transactions; seed more --months.")

    several = [link_id for link_id, _ in links[1 : 1 + LINKS_LISTED_TOGETHER]]
    several_count = sum(count for _, count in links[1 : 1 + LINKS_LISTED_TOGETHER])
    year_ago = today - timedelta(days=365)
    last_page = -(-count // PAGE_SIZE)
    # The last full pages, so both pages compared have the same number of rows.
    late_small_page = count // SMALL_PAGE_SIZE
    late_several_page = several_count // PAGE_SIZE
    return [
        list_scenario("one link, page 1", tenant_id, [link], page=1),
        list_scenario(f"one link, page {last_page} (last)", tenant_id, [link], page=last_page),
        list_scenario(
            f"one link, {SMALL_PAGE_SIZE} a page, page 1",
            tenant_id,
            [link],
            page=1,
            page_size=SMALL_PAGE_SIZE,
        ),
        list_scenario(
            f"one link, {SMALL_PAGE_SIZE} a page, page {late_small_page}",
            tenant_id,
            [link],
            page=late_small_page,
            page_size=SMALL_PAGE_SIZE,
        ),
        list_scenario(f"{len(several)} links, page 1", tenant_id, several, page=1),
        list_scenario(
            f"{len(several)} links, page {late_several_page}",
            tenant_id,
            several,
            page=late_several_page,
        ),
        list_scenario(
            "one link, filtered",
            tenant_id,
            [link],
            page=1,
            extra={
                "value_date__range": f"{year_ago.isoformat()},{today.isoformat()}",
                "amount__gte": "100",
            },
            sql_condition=(
                " AND transactions.value_date BETWEEN ? AND ? AND transactions.amount >= ?"
            ),
            sql_params=(year_ago.isoformat(), today.isoformat(), 100.0),
        ),
        Scenario(
            "POST one year of one link",
            "POST",
            "/api/transactions/",
            body={
                "link": link,
                "date_from": year_ago.isoformat(),
                "date_to": today.isoformat(),
            },
        ),
    ]


_WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_MILLISECONDS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Run:
    """One run of a scenario: wrk's requests and latencies in milliseconds, and the server's
    CPU time per request in microseconds."""

    requests: int
    p50_ms: float
    p99_ms: float
    cpu_us: float


def run_wrk(
    url: str, auth: tuple[str, str], scenario: Scenario, seconds: int, server_pid: int
) -> Run:
    """Send the scenario's request for `seconds` over one connection, one request at a time."""
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    command = [
        "wrk",
        "-t1",
        "-c1",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Basic {token}",
    ]
    env = dict(os.environ)
    if scenario.body is not None:
        command += ["-s", str(ROOT / "bench" / "post.lua")]
        env["WRK_BODY"] = json.dumps(scenario.body)
    target = str(httpx.URL(url + scenario.path, params=scenario.params))

    cpu_before = process_cpu_seconds(server_pid)
    output = subprocess.run(
        [*command, target], capture_output=True, text=True, env=env, check=True
    ).stdout
    cpu = process_cpu_seconds(server_pid) - cpu_before

    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"{scenario.name}: wrk saw errors:\n{output}")
    latencies = {
        percent: float(value) * _MILLISECONDS[unit]
        for percent, value, unit in _WRK_LATENCY.findall(output)
    }
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    return Run(requests, latencies["50"], latencies["99"], cpu / requests * 1e6)


@dataclass
class SelectRun:
    """One round of a scenario's SELECT: latencies in milliseconds, CPU time per SELECT in
    microseconds."""

    p50_ms: float
    p99_ms: float
    cpu_us: float


def time_select(database: sqlite3.Connection, scenario: Scenario, runs: int) -> SelectRun:
    """Run the scenario's SELECT `runs` times."""
    assert scenario.sql is not None
    milliseconds = []
    cpu_before = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        database.execute(scenario.sql, scenario.sql_params).fetchall()
        milliseconds.append((time.perf_counter() - started) * 1000)
    cpu = time.process_time() - cpu_before
    return SelectRun(
        statistics.median(milliseconds), percentile(milliseconds, 99), cpu / runs * 1e6
    )


def check(client: httpx.Client, database: sqlite3.Connection, scenario: Scenario) -> int:
    """Send the scenario's request once; return its row count, which the SELECT must match."""
    response = client.request(
        scenario.method, scenario.path, params=scenario.params, json=scenario.body
    )
    if response.status_code >= 300:
        raise RuntimeError(f"{scenario.name}: {response.status_code} {response.text[:500]}")
    body = response.json()
    rows = len(body["results"]) if isinstance(body, dict) else len(body)
    if scenario.sql is not None:
        found = len(database.execute(scenario.sql, scenario.sql_params).fetchall())
        if found != rows:
            raise RuntimeError(f"{scenario.name}: the API sent {rows} rows, the SELECT {found}")
    return rows


def measure_all(
    client: httpx.Client,
    url: str,
    auth: tuple[str, str],
    server_pid: int,
    database: sqlite3.Connection,
    scenarios: list[Scenario],
    *,
    rounds: int,
    seconds: int,
    selects: int,
) -> list[Timing]:
    """Run every scenario once per round, wrk first and then its SELECT.

    Every round visits all scenarios, so a burst of other load on the machine falls on all of
    them alike. The figures are the medians over the rounds.
    """
    rows = {scenario.name: check(client, database, scenario) for scenario in scenarios}
    api: dict[str, list[Run]] = {scenario.name: [] for scenario in scenarios}
    select: dict[str, list[SelectRun]] = {scenario.name: [] for scenario in scenarios}
    for _ in range(rounds):
        for scenario in scenarios:
            api[scenario.name].append(run_wrk(url, auth, scenario, seconds, server_pid))
            if scenario.sql is not None:
                select[scenario.name].append(time_select(database, scenario, selects))
    timings = []
    for scenario in scenarios:
        runs = api[scenario.name]
        select_runs = select[scenario.name]
        timings.append(
            Timing(
                scenario.name,
                rows[scenario.name],
                sum(run.requests for run in runs),
                statistics.median(run.p50_ms for run in runs),
                statistics.median(run.p99_ms for run in runs),
                statistics.median(run.cpu_us for run in runs),
                statistics.median(run.p50_ms for run in select_runs) if select_runs else None,
                statistics.median(run.p99_ms for run in select_runs) if select_runs else None,
                statistics.median(run.cpu_us for run in select_runs) if select_runs else None,
            )
        )
    return timings


def print_table(timings: list[Timing]) -> None:
    print(
        "| scenario | rows | requests | API p50 ms | API p99 ms | server CPU µs/request "
        "| SELECT p50 ms | SELECT p99 ms | SELECT CPU µs | p50 ratio | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for item in timings:
        select = "| - | - | - | - | - |"
        if item.select_p50_ms is not None and item.select_cpu_us is not None:
            select = (
                f"| {item.select_p50_ms:.2f} | {item.select_p99_ms:.2f} "
                f"| {item.select_cpu_us:,.0f} | {item.api_p50_ms / item.select_p50_ms:.2f}x "
                f"| {item.api_cpu_us / item.select_cpu_us:.2f}x |"
            )
        print(
            f"| {item.scenario} | {item.rows:,} | {item.api_requests:,} | {item.api_p50_ms:.2f} "
            f"| {item.api_p99_ms:.2f} | {item.api_cpu_us:,.0f} {select}"
        )


def print_bars(timings: list[Timing]) -> None:
    """Print the figures that the targets are stated in, with the targets.

    A late page is compared with page 1 of the same list, in three lists: one link at 1,000 a
    page (its last page), one link at 100 a page (its last full page), and several links (the
    last full page). The order of several links comes from a sort instead of the index.
    """
    api = [item.api_p50_ms for item in timings]
    names = [item.scenario for item in timings]
    first = timings[0]
    assert first.select_p50_ms is not None and first.select_cpu_us is not None
    figures = [
        ("1,000-row list p50 / its SELECT p50", api[0] / first.select_p50_ms, 3.0),
        ("1,000-row list server CPU / its SELECT CPU", first.api_cpu_us / first.select_cpu_us, 3.0),
        (f"'{names[1]}' p50 / page 1 p50", api[1] / api[0], 1.5),
        (f"'{names[3]}' p50 / page 1 p50", api[3] / api[2], 1.5),
        (f"'{names[5]}' p50 / page 1 p50", api[5] / api[4], 1.5),
        ("POST one year p50, seconds", api[7] / 1000, 0.5),
    ]
    print()
    print("| figure | value | target | met |")
    print("|---|---|---|---|")
    for name, value, target in figures:
        print(f"| {name} | {value:.2f} | < {target} | {'yes' if value < target else 'no'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="seed cache")
    parser.add_argument("--links", type=int, default=650, help="links to seed")
    parser.add_argument("--months", type=int, default=36, help="months of history per link")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every scenario")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--selects", type=int, default=50, help="timed SELECTs per round")
    parser.add_argument("--output", type=Path, help="also write the timings as JSON here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    data_dir = args.data_dir.resolve()
    load_before = tuple(round(value, 2) for value in os.getloadavg())
    record = seed_once(data_dir, links=args.links, months=args.months)
    print(
        f"Seed: {record['transactions']:,} transactions in {record['links']:,} links, "
        f"seeded on {record['date']} in {record['seconds']} s",
        file=sys.stderr,
    )
    database_path = data_dir / "vinculo.db"
    tenant_id, links = pick_links(database_path)
    auth = create_key(data_dir)
    port = free_port()
    server = start_server(data_dir, port)
    timings: list[Timing] = []
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
            wait_until_up(client, server)
            database = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)
            try:
                timings = measure_all(
                    client,
                    url,
                    auth,
                    server.pid,
                    database,
                    build_scenarios(tenant_id, links, date.today()),
                    rounds=args.rounds,
                    seconds=args.duration,
                    selects=args.selects,
                )
            finally:
                database.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    print_table(timings)
    print_bars(timings)
    print(
        f"\nLoad average (1, 5, 15 min) at the start: {load_before}, at the end: "
        f"{tuple(round(value, 2) for value in os.getloadavg())}"
    )
    if args.output:
        args.output.write_text(json.dumps([asdict(item) for item in timings], indent=2))


if __name__ == "__main__":
    main()
