"""Alert ingest: warroom's `POST /webhooks/alertmanager` next to the real Alertmanager's `POST /api/v2/alerts`.

Both servers get the same load shape: two concurrent sender tasks over one `httpx.AsyncClient` (HTTP/1.1,
at most 2 keep-alive connections), each sending the next body as soon as the previous answer arrives.
Bodies are deterministic and pre-generated: a few hundred services, each request one group
(service + alertname) whose alerts differ by pod and instance, so fingerprints vary and groups spread.

For each batch size (alerts per request) both servers start fresh, side by side, and take turns:
- first sight: `--rounds` timed passes over all the bodies, alternating Alertmanager and warroom, each
  round with renamed services, so every alert and group is new to the server (warroom declares an
  incident per group and queues its Slack work);
- steady state: `--rounds` rounds of `--duration` seconds each, alternating Alertmanager and warroom,
  cycling over the same bodies: every alert is a repeat, as when Prometheus re-sends firing alerts and
  Alertmanager re-notifies a group.
Each figure is the median round (alternation cancels slow drifts of a shared machine); p99 is over all
rounds' requests.
Before each phase the bench waits until both servers are idle (CPU quiet), so neither pays for the other.

- Alertmanager (Debian `prometheus-alertmanager`, `make servers`) runs on loopback with its default
  grouping timers and a receiver without integrations, so the measure is its ingest API (the alerts
  still go through its dispatcher and aggregation groups). Bodies: JSON lists of
  {labels, annotations, startsAt, generatorURL}.
- warroom runs as `python -m bot.cli serve` with SQLite (every alert committed before the 202; with
  `--sqlite-synchronous FULL` also synced to disk, as against a power loss) and Slack
  in HTTP mode against the Slack emulator running in this benchmark process with Slack's rate tiers on,
  so the bot's CPU does only the bot's work, as with real Slack. It gets webhook v4 bodies with
  `Authorization: Bearer <token>` and answers 202.

Prints alerts/s, requests/s, p50/p99 request latency, server CPU seconds, both servers' peak RSS and the
ratio warroom/Alertmanager at each batch size. Exit status 0 unless the set-up itself fails.

    .venv/bin/python bench/ingest.py [--duration 8] [--rounds 3] [--batches 1,100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.domain.alert import fingerprint

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TOKEN = "bench-alert-token"  # a throwaway token for a loopback run
SLACK_TOKEN, SLACK_SECRET = "xoxb-bench-token", "bench-signing-secret"
ENDPOINT = "/webhooks/alertmanager"
CONNECTIONS = 2
SENDERS = 2
FIRING_ENDS_AT = "0001-01-01T00:00:00Z"
ALERTNAMES = [
    ("HighErrorRate", "critical", "5xx ratio above 5% for 5m"),
    ("HighLatencyP99", "warning", "p99 latency above 750ms"),
    ("PodCrashLooping", "critical", "container restarted more than 3 times in 10m"),
    ("KubePodNotReady", "warning", "pod not ready for more than 15m"),
    ("DiskWillFillIn4Hours", "warning", "disk predicted to fill within 4h"),
    ("TargetDown", "critical", "scrape target unreachable"),
    ("CPUThrottlingHigh", "info", "CPU throttled above 25%"),
    ("ErrorBudgetBurn", "critical", "burning error budget at 14.4x"),
]
SERVICE_WORDS = [
    "checkout",
    "cart",
    "payments",
    "ledger",
    "search",
    "catalog",
    "pricing",
    "inventory",
    "shipping",
    "orders",
    "accounts",
    "auth",
    "profile",
    "billing",
    "invoices",
    "notify",
    "email",
    "sms",
    "push",
    "gateway",
    "edge",
    "cdn",
    "media",
    "images",
    "video",
    "recommend",
    "ranking",
    "ads",
    "fraud",
    "risk",
    "kyc",
    "reports",
    "export",
    "import",
    "sync",
    "scheduler",
    "queue",
    "worker",
    "cache",
    "session",
]
SUFFIXES = ["api", "svc", "worker", "db", "gateway", "cron", "consumer", "frontend"]
CLUSTERS = [
    ("prod-eu-1", "eu-west-1"),
    ("prod-eu-2", "eu-central-1"),
    ("prod-us-1", "us-east-1"),
    ("prod-ap-1", "ap-south-1"),
]


# ---- alert bodies ---------------------------------------------------------------------------------


def services(count: int) -> list[str]:
    """`count` distinct, realistic service names (checkout-api, payments-worker, ...)."""
    base = [f"{w}-{s}" for s in SUFFIXES for w in SERVICE_WORDS]
    return [base[i % len(base)] + (f"-{i // len(base)}" if i >= len(base) else "") for i in range(count)]


def group_alerts(request_no: int, batch: int, svc_names: list[str], base: datetime) -> list[dict[str, Any]]:
    """The alerts of request `request_no`: one group (service, alertname), `batch` pods of it."""
    service = svc_names[request_no % len(svc_names)]
    alertname, severity, summary = ALERTNAMES[(request_no // len(svc_names)) % len(ALERTNAMES)]
    cluster, region = CLUSTERS[(request_no * 7) % len(CLUSTERS)]
    starts = (base + timedelta(seconds=request_no)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    alerts = []
    for j in range(batch):
        replica = (request_no * 31 + j) % 997  # overlapping but varied pods: some repeats, mostly new
        labels = {
            "alertname": alertname,
            "service": service,
            "severity": severity,
            "cluster": cluster,
            "region": region,
            "namespace": service.split("-")[0],
            "instance": f"10.{(replica >> 8) % 256}.{replica % 256}.{(j * 13) % 250 + 2}:9100",
            "pod": f"{service}-{replica:05x}-{j % 7}",
            "job": "kubernetes-pods",
        }
        alerts.append(
            {
                "labels": labels,
                "annotations": {
                    "summary": f"{service}: {summary}",
                    "description": f"{alertname} on {labels['pod']} in {cluster} ({region}).",
                    "runbook_url": f"https://runbooks.example.com/{alertname.lower()}",
                },
                "startsAt": starts,
                "generatorURL": f"http://prometheus.{cluster}.example.com/graph?g0.expr=ALERTS%7Balertname%3D%22{alertname}%22%7D",
            }
        )
    return alerts


def v4_body(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """An Alertmanager webhook v4 body for one firing group."""
    common_labels = dict(alerts[0]["labels"])
    common_ann = dict(alerts[0]["annotations"])
    for a in alerts[1:]:
        common_labels = {k: v for k, v in common_labels.items() if a["labels"].get(k) == v}
        common_ann = {k: v for k, v in common_ann.items() if a["annotations"].get(k) == v}
    group_labels = {k: alerts[0]["labels"][k] for k in ("alertname", "service")}
    return {
        "receiver": "warroom",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": a["startsAt"],
                "endsAt": FIRING_ENDS_AT,
                "generatorURL": a["generatorURL"],
                "fingerprint": fingerprint(a["labels"]),
            }
            for a in alerts
        ],
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": common_ann,
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": '{}:{alertname="' + group_labels["alertname"] + '", service="' + group_labels["service"] + '"}',
        "truncatedAlerts": 0,
    }


@dataclass
class Bodies:
    """Pre-encoded request bodies for one batch size, for both targets (same alerts)."""

    batch: int
    warroom: list[bytes]
    alertmanager: list[bytes]


def make_bodies(batch: int, pool: int, n_services: int, variant: int = 0) -> Bodies:
    """`pool` requests' worth of alerts at this batch size, JSON-encoded once.

    Another `variant` renames the services (`checkout-api-v2`): the same shape, all alerts and groups new.
    """
    names = [f"{n}-v{variant}" if variant else n for n in services(n_services)]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    warroom, am = [], []
    for i in range(pool):
        alerts = group_alerts(i, batch, names, base)
        am.append(json.dumps(alerts).encode())
        warroom.append(json.dumps(v4_body(alerts)).encode())
    return Bodies(batch, warroom, am)


# ---- measuring ------------------------------------------------------------------------------------


def avg_kib(bodies: list[bytes]) -> float:
    return sum(map(len, bodies)) / len(bodies) / 1024


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def proc_status(pid: int, field: str) -> float:
    """A kB field of /proc/<pid>/status (VmHWM, VmRSS) in MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its waited-for children), in seconds."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return float("nan")


@dataclass
class Result:
    """One phase: requests sent, alerts accepted, latencies (s), wall time (s), server CPU (s)."""

    requests: int
    alerts: int
    errors: int
    latencies: list[float]
    wall: float
    cpu: float
    client_cpu: float
    first_error: str = ""

    @property
    def alerts_per_s(self) -> float:
        return self.alerts / self.wall if self.wall else 0.0

    @property
    def p99_ms(self) -> float:
        return pct(self.latencies, 99) * 1000 if self.latencies else float("nan")

    def line(self, name: str) -> str:
        lat = [x * 1000 for x in self.latencies] or [float("nan")]
        err = f"  errors {self.errors} ({self.first_error})" if self.errors else ""
        if self.client_cpu > 0.85 * self.wall:
            err += "\n    ^ client-bound: the Python load generator saturated a core; the server could take more"
        return (
            f"  {name:<13} {self.alerts_per_s:9.0f} alerts/s  {self.requests / self.wall:7.0f} req/s"
            f"  p50 {statistics.median(lat):7.2f} ms  p99 {pct(lat, 99):7.2f} ms  max {max(lat):7.1f} ms"
            f"  CPU server {self.cpu:4.1f} s, client {self.client_cpu:4.1f} s in {self.wall:4.1f} s{err}"
        )


async def run_phase(
    client: httpx.AsyncClient,
    url: str,
    bodies: list[bytes],
    batch: int,
    headers: dict[str, str],
    ok: set[int],
    duration: float,
    max_requests: int,
    pid: int,
    tally: dict[str, Any] | None = None,
) -> Result:
    """Two senders post bodies back to back until the duration (or request count) is reached.

    With `tally`, each answer is read as warroom's ingest reply and summed into it (declared, deduplicated,
    incidents touched).
    """
    latencies: list[float] = []
    counters = {"next": 0, "errors": 0}
    first_error: list[str] = []
    cpu0, client0 = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    deadline = start + duration

    async def sender() -> None:
        while time.perf_counter() < deadline:
            n = counters["next"]
            if max_requests and n >= max_requests:
                return
            counters["next"] = n + 1
            body = bodies[n % len(bodies)]
            t0 = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                status, text = response.status_code, response.text
                if tally is not None and status in ok:
                    reply = response.json()
                    tally["declared"] += len(reply.get("declared", []))
                    tally["deduplicated"] += reply.get("deduplicated", 0)
                    tally["incidents"].update(reply.get("incidents", []))
            except httpx.HTTPError as exc:
                status, text = 0, repr(exc)
            latencies.append(time.perf_counter() - t0)
            if status not in ok:
                counters["errors"] += 1
                if not first_error:
                    first_error.append(f"{status} {text[:120]}")

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    wall = time.perf_counter() - start
    done = len(latencies)
    errors = counters["errors"]
    cpu, client_cpu = cpu_seconds(pid) - cpu0, time.process_time() - client0
    return Result(done, (done - errors) * batch, errors, latencies, wall, cpu, client_cpu, "".join(first_error))


async def settle(pids: list[int], max_wait: float = 30.0) -> float:
    """Wait until the servers' CPU use drops (background work of the last phase done); seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        before = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(0.25)
        if sum(cpu_seconds(pid) for pid in pids) - before < 0.02:
            break
    return time.perf_counter() - t0


def serve_env(db_url: str, port: int, slack_api_url: str) -> dict[str, str]:
    """The environment of a benchmarked `warroom serve`: this database and port, Slack at `slack_api_url`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_", "DISCORD_"))},
        "WARROOM_DATABASE_URL": db_url,
        "WARROOM_PORT": str(port),
        "WARROOM_HOST": HOST,
        "WARROOM_ALERT_TOKEN": TOKEN,
        "WARROOM_LOG_LEVEL": "WARNING",
        "WARROOM_LOCAL_MODE": "false",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": slack_api_url,
    }


def serve_argv() -> list[str]:
    """`python -m bot.cli serve` with the project's venv when there is one."""
    python = ROOT / ".venv" / "bin" / "python"
    return [str(python if python.exists() else Path(sys.executable)), "-m", "bot.cli", "serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    """Poll `url` every 50 ms until it answers 200."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as c:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await c.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s ({url})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def new_client() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    return httpx.AsyncClient(http1=True, http2=False, limits=limits, timeout=60.0)


# ---- the two targets ------------------------------------------------------------------------------


@dataclass
class Target:
    """A running server under test and what the bench sends it."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    bodies: list[bytes]
    headers: dict[str, str]
    ok: set[int]
    log_path: Path
    batch: int
    tally: bool = False
    firsts: list[Result] = field(default_factory=list)
    rounds: list[Result] = field(default_factory=list)
    rss: float = 0.0

    def pick(self, bodies: Bodies) -> list[bytes]:
        """This server's encoding of a body set."""
        return bodies.warroom if self.tally else bodies.alertmanager

    def stop(self) -> float:
        """Stop the server; its peak RSS in MiB."""
        rss = proc_status(self.proc.pid, "VmHWM")
        stop(self.proc)
        return rss


def find_alertmanager() -> str | None:
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if found:
            return found
    return None


async def start_alertmanager(tmp: Path, bodies: Bodies) -> Target | None:
    binary = find_alertmanager()
    if binary is None:
        print("alertmanager: binary not found (prometheus-alertmanager or alertmanager): run `make servers`")
        return None
    config = {
        # Alertmanager's default timers; the receiver has no integrations, so nothing is sent anywhere.
        "route": {
            "receiver": "null",
            "group_by": ["service", "alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [{"name": "null"}],
    }
    am_dir = tmp / "am"
    am_dir.mkdir(parents=True)
    (am_dir / "am.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://{HOST}:{port}"
    log_path = am_dir / "am.log"
    with log_path.open("wb") as log:
        argv = [
            binary,
            f"--config.file={am_dir / 'am.yml'}",
            f"--storage.path={am_dir / 'data'}",
            f"--web.listen-address={HOST}:{port}",
            "--cluster.listen-address=",
            f"--web.external-url={url}",
            "--log.level=warn",
        ]
        proc = subprocess.Popen(argv, cwd=am_dir, stdout=log, stderr=subprocess.STDOUT)
    try:
        await wait_http(f"{url}/-/ready", proc, "alertmanager")
    except RuntimeError as exc:
        print(f"alertmanager: could not start ({exc})")
        stop(proc)
        return None
    headers = {"Content-Type": "application/json"}
    return Target(
        "Alertmanager", proc, f"{url}/api/v2/alerts", bodies.alertmanager, headers, {200}, log_path, bodies.batch
    )


async def start_warroom(tmp: Path, bodies: Bodies, slack_api_url: str, synchronous: str) -> Target | None:
    wr_dir = tmp / "warroom"
    wr_dir.mkdir(parents=True)
    port = free_port()
    env = serve_env(f"sqlite+aiosqlite:///{wr_dir / 'bench.db'}", port, slack_api_url)
    env["WARROOM_SQLITE_SYNCHRONOUS"] = synchronous
    log_path = wr_dir / "bot.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(serve_argv(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}{ENDPOINT}"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    try:
        await wait_http(f"http://{HOST}:{port}/healthz", proc, "warroom", timeout=60)
    except RuntimeError as exc:
        tail = "\n    ".join(log_path.read_text(errors="replace").splitlines()[-15:])
        print(f"warroom: could not start ({exc}); log tail:\n    {tail}")
        stop(proc)
        return None
    return Target("warroom", proc, url, bodies.warroom, headers, {202}, log_path, bodies.batch, tally=True)


async def probe(client: httpx.AsyncClient, target: Target) -> bool:
    """One request with a body the phases never send (its own group): the endpoint answers as expected."""
    reply = await client.post(target.url, content=target.bodies[0], headers=target.headers)
    if reply.status_code in target.ok:
        return True
    if reply.status_code in (404, 405):
        why = f"answered {reply.status_code}: the endpoint does not exist yet"
    else:
        why = f"answered {reply.status_code} (expected {sorted(target.ok)}): {reply.text[:200]}"
    print(f"  {target.name}: NOT MEASURED - {target.url} {why}")
    return False


async def measure(client: httpx.AsyncClient, target: Target, others: list[Target], args: argparse.Namespace,
                  bodies: list[bytes], *, first: bool) -> Result:  # fmt: skip
    waited = await settle([t.proc.pid for t in [target, *others]])
    tally: dict[str, Any] | None = {"declared": 0, "deduplicated": 0, "incidents": set()} if target.tally else None
    result = await run_phase(
        client, target.url, bodies, target.batch, target.headers, target.ok,
        duration=3600.0 if first else args.duration, max_requests=len(bodies) if first else 0,
        pid=target.proc.pid, tally=tally,
    )  # fmt: skip
    label = f"{target.name} {'first sight' if first else 'steady'}"
    print(result.line(label[:24]), flush=True)
    if tally is not None:
        print(
            f"    replies: {tally['declared']} incidents declared, {tally['deduplicated']} alerts deduplicated,"
            f" {len(tally['incidents'])} distinct incidents touched (idle after {waited:.1f} s)"
        )
    return result


async def bench_batch(tmp: Path, bodies: Bodies, args: argparse.Namespace, slack_api_url: str) -> list[Target]:
    """Both servers fresh for this batch size: alternating first-sight rounds, then alternating steady rounds.

    First-sight round 1 sends `bodies` (the steady rounds' set); later rounds send renamed variants, so
    every round's alerts and groups are new to both servers.
    """
    targets: list[Target] = []
    try:
        if not args.skip_alertmanager and (am := await start_alertmanager(tmp, bodies)) is not None:
            targets.append(am)
        if not args.skip_warroom:
            wr = await start_warroom(tmp, bodies, slack_api_url, args.sqlite_synchronous)
            if wr is not None:
                targets.append(wr)
        async with new_client() as client:
            targets = [t for t in targets if await probe(client, t)]
            for r in range(max(1, args.rounds)):
                fresh = bodies if r == 0 else make_bodies(bodies.batch, len(bodies.warroom), args.services, r)
                for t in targets:
                    t.firsts.append(await measure(client, t, targets, args, t.pick(fresh)[1:], first=True))
            for _ in range(args.rounds):
                for t in targets:
                    # the probe's body stays out of the phases (it is the first of the set)
                    t.rounds.append(await measure(client, t, targets, args, t.bodies[1:], first=False))
        return targets
    finally:
        for t in targets:
            t.rss = t.stop()
            problems = [
                ln for ln in t.log_path.read_text(errors="replace").splitlines() if "ERROR" in ln or "WARNING" in ln
            ]
            if problems and t.tally:
                print(f"  {t.name} log: {len(problems)} WARNING/ERROR lines, last: {problems[-1][:200]}")


def figures(t: Target | None, phase: str) -> tuple[float, float] | None:
    """alerts/s of the median round and p99 (ms) over all rounds of a target in a phase."""
    if t is None:
        return None
    rounds = t.rounds if phase == "steady" else t.firsts
    return (median_round(rounds).alerts_per_s, pooled_p99(rounds)) if rounds else None


def median_round(rounds: list[Result]) -> Result:
    return sorted(rounds, key=lambda r: r.alerts_per_s)[len(rounds) // 2]


def pooled_p99(rounds: list[Result]) -> float:
    return pct([x for r in rounds for x in r.latencies], 99) * 1000


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per steady round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="steady rounds per server (default 3)")
    parser.add_argument("--batches", default="1,100", help="alerts per request, comma-separated (default 1,100)")
    parser.add_argument("--services", type=int, default=300, help="distinct services (default 300)")
    parser.add_argument("--pool", type=int, default=2000, help="distinct request bodies per batch size")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["NORMAL", "FULL"],
        default="NORMAL",
        help="warroom's WARROOM_SQLITE_SYNCHRONOUS: NORMAL (a 202 survives a bot crash) or FULL (also power loss)",
    )
    parser.add_argument("--skip-warroom", action="store_true", help="measure Alertmanager only")
    parser.add_argument("--skip-alertmanager", action="store_true", help="measure warroom only (profiling)")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",") if b.strip()]

    t0 = time.perf_counter()
    all_bodies = [make_bodies(b, max(50, min(args.pool, 50_000 // b)), args.services) for b in batches]
    print(
        f"alert ingest: {SENDERS} senders over {CONNECTIONS} keep-alive HTTP/1.1 connections, {args.rounds} "
        f"first-sight passes and {args.rounds} x {args.duration:g} s steady rounds per server, batches {batches}, "
        f"{args.services} services, {os.cpu_count()} cores (bodies built in {time.perf_counter() - t0:.1f} s)"
    )
    for b in all_bodies:
        print(
            f"  batch {b.batch}: {len(b.warroom)} distinct bodies, avg v4 {avg_kib(b.warroom):.1f} KiB,"
            f" API v2 {avg_kib(b.alertmanager):.1f} KiB"
        )
    print(
        f"  Alertmanager: {find_alertmanager() or 'not installed'}; warroom: SQLite (synchronous="
        f"{args.sqlite_synchronous}), Slack = emulator (rate tiers)"
    )

    from integrations.local_workspace import EmulatorServer, Workspace

    emulator = EmulatorServer(Workspace(token=SLACK_TOKEN, signing_secret=SLACK_SECRET, rate_limit_scale=1.0))
    await emulator.start()
    tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-ingest-"))
    measured: dict[int, dict[str, Target]] = {}
    try:
        for bodies in all_bodies:
            print(f"batch {bodies.batch}:", flush=True)
            done = await bench_batch(tmp / f"b{bodies.batch}", bodies, args, emulator.api_url)
            measured[bodies.batch] = {t.name: t for t in done}
    finally:
        await emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print("summary (median round; p99 over all rounds' requests):")
    for name in ("Alertmanager", "warroom"):
        peaks = [m[name].rss for m in measured.values() if name in m]
        if peaks:
            print(f"  {name} peak RSS (VmHWM) {max(peaks):7.1f} MiB")
    for batch in batches:
        got = measured.get(batch, {})
        am, wr = got.get("Alertmanager"), got.get("warroom")
        for phase in ("steady", "first sight"):
            a, w = figures(am, phase), figures(wr, phase)
            fa = f"{a[0]:8.0f} alerts/s p99 {a[1]:6.2f} ms" if a else "  (not measured)"
            fw = f"{w[0]:8.0f} alerts/s p99 {w[1]:6.2f} ms" if w else "  (not measured)"
            ratio = f"  warroom/AM: alerts/s {w[0] / a[0]:4.2f}x, p99 {w[1] / a[1]:5.2f}x" if a and w and a[0] else ""
            print(f"  batch {batch:>3} {phase:<11}: warroom {fw} | Alertmanager {fa}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
