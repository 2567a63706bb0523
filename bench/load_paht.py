#!/usr/bin/env python3
"""Load PAHT's GraphQL endpoint with one of the peer benchmark's operations (bench/ops/*.graphql).

wrk (a C client: little CPU stolen from a 2-core box) drives HTTP with bench/load_paht.lua; this
script only prepares the data: one JWT per tenant for its seeded operator (HS256, iss/aud/sub/tid
as accounts.tokens issues them, signed with PAHT_JWT_SECRET) and a sample of report global IDs
and field global IDs per tenant, read from the database.

  python bench/load_paht.py --op a_list,b_detail -c 1 32 -d 15 --warmup 5 --pgss
  python bench/load_paht.py --op d_create -c 1 32 -d 15     # writes: run last

DSN for reading ids / pg_stat_statements: --dsn, else the embedded server under .paht/bench
(superuser, database paht_bench). Prints req/s, p50/p90/p99 and errors per (op, concurrency);
with --pgss also DB statements and DB execution ms per request and the top statements.
Appends JSON lines to bench/results/paht.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import pwd
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import jwt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
OPS = ("a_list", "b_detail", "c_dashboard", "d_create")


def gid(type_name: str, value: object) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def default_dsn(database: str) -> str:
    pgdata = ROOT / ".paht" / "bench" / "pgdata"
    return f"postgresql://postgres@/{database}?host={pgdata}"


async def tenant_samples(dsn: str, per_tenant: int, max_tenants: int) -> list[dict]:
    """Superuser read (bypasses RLS): each bench tenant, its operator and a random id sample."""
    con = await asyncpg.connect(dsn)
    try:
        rows = await con.fetch(
            """
            SELECT t.id AS tenant_id, m.user_id,
              (SELECT s.user_id FROM membership s WHERE s.tenant_id = t.id
                 AND s.role = 'centre_supervisor' AND s.active LIMIT 1) AS supervisor_id,
              array(SELECT f.id FROM field f WHERE f.tenant_id = t.id AND f.active) AS fields,
              array(SELECT r.id FROM report r
                    WHERE r.tenant_id = t.id AND r.reporter_user_id IS NULL
                      AND r.idempotency_key IS NULL AND r.tracking_code IS NULL
                    ORDER BY random() LIMIT $1) AS reports
            FROM tenant t
            JOIN membership m ON m.tenant_id = t.id AND m.role = 'intake_operator' AND m.active
            WHERE t.code LIKE 'bench-%'
            ORDER BY t.code LIMIT $2""",
            per_tenant,
            max_tenants,
        )
    finally:
        await con.close()
    return [dict(r) for r in rows]


async def open_sessions(dsn: str, tenants: list[dict]) -> None:
    """A login session (auth_session, the token's ``sid``) for each tenant's operator and
    supervisor, written as the superuser (the table is FORCE RLS); the server refuses a token
    without a live session. Sets ``session_id`` / ``supervisor_session_id`` on each tenant."""
    con = await asyncpg.connect(dsn)
    try:
        for t in tenants:
            for user_key, session_key in (
                ("user_id", "session_id"),
                ("supervisor_id", "supervisor_session_id"),
            ):
                if t[user_key] is None:
                    continue
                t[session_key] = uuid.uuid4()
                await con.execute(
                    "INSERT INTO auth_session (id, user_id, tenant_id, created_at)"
                    " VALUES ($1, $2, $3, now())",
                    t[session_key],
                    t[user_key],
                    t["tenant_id"],
                )
    finally:
        await con.close()


def mint(
    secret: str,
    user_id: object,
    tenant_id: object,
    session_id: object,
    issuer: str,
    audience: str,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "tid": str(tenant_id),
        "sid": str(session_id),
        "iat": now,
        "nbf": now,
        "exp": now + 86400,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def write_lua_data(tenants: list[dict], secret: str, issuer: str, audience: str) -> str:
    lines = ["return { tenants = {"]
    for t in tenants:
        token = mint(secret, t["user_id"], t["tenant_id"], t["session_id"], issuer, audience)
        reports = ",".join(f'"{gid("Report", r)}"' for r in t["reports"])
        fields = ",".join(f'"{gid("Field", f)}"' for f in t["fields"])
        stoken = (
            mint(
                secret,
                t["supervisor_id"],
                t["tenant_id"],
                t["supervisor_session_id"],
                issuer,
                audience,
            )
            if t["supervisor_id"]
            else token
        )
        lines.append(
            f'  {{token="{token}", stoken="{stoken}", reports={{{reports}}}, fields={{{fields}}}}},'
        )
    lines.append("} }")
    fd, path = tempfile.mkstemp(suffix=".lua", prefix="paht-bench-")
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


# --- noisy neighbours: CPU burnt by processes that are not part of the benchmark ---------------

OURS_USERS = {"embedded_postgres", "pgpeer"}
# The benchmark's own processes: wrk, the servers (PAHT's bench.asgi factory under uvicorn or
# `paht serve`, the peer's Node process) and this harness. A uvicorn worker's command line is
# `python -c "from multiprocessing.spawn import spawn_main; …"`: it is ours through its parent.
# Another uvicorn on the box (a test server, another project) is foreign.
OURS_WORDS = (
    "wrk", "bench.asgi", "bench/asgi", "server.mjs", "load_paht", "paht serve", "api.cli serve",
    "load.py",
)  # fmt: skip


def _processes() -> dict[int, tuple[int, str, str, int]]:
    """pid -> (parent pid, command line, user, CPU ticks so far)."""
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ")
            user = pwd.getpwuid(os.stat(f"/proc/{d}").st_uid).pw_name
        except (OSError, KeyError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(d)] = (
            int(fields[1]),
            cmd.decode(errors="replace"),
            user,
            int(fields[11]) + int(fields[12]),
        )
    return found


def _foreign_ticks() -> int:
    procs = _processes()
    memo: dict[int, bool] = {}

    def ours(pid: int, depth: int = 0) -> bool:
        if pid in memo:
            return memo[pid]
        if pid == os.getpid():
            return True
        parent, cmd, user, _ = procs.get(pid, (0, "", "", 0))
        test_cluster = "paht_test" in cmd or "/.paht/test" in cmd  # the test suite's PostgreSQL
        result = (
            (user in OURS_USERS and not test_cluster)
            or any(w in cmd for w in OURS_WORDS)
            or ("multiprocessing" in cmd and parent > 1 and depth < 8 and ours(parent, depth + 1))
        )
        memo[pid] = result
        return result

    return sum(ticks for pid, (_, cmd, _, ticks) in procs.items() if cmd and not ours(pid))


SERVER_WORDS = ("paht serve", "api.cli serve", "bench.asgi", "bench/asgi")


def server_rss_mb() -> list[float]:
    """Resident memory (MiB) of each PAHT server process: the `paht serve` or `bench.asgi`
    parent and its multiprocessing workers."""
    procs = _processes()
    servers = {pid for pid, (_, cmd, _, _) in procs.items() if any(w in cmd for w in SERVER_WORDS)}
    workers = {pid for pid, (parent, cmd, _, _) in procs.items() if parent in servers}
    sizes = []
    for pid in sorted(servers | workers):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kib = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        sizes.append(round(kib / 1024, 1))
    return sizes


def wait_quiet(max_wait: float, quiet_cores: float = 0.15) -> float:
    """Wait (up to max_wait s) until foreign CPU < quiet_cores over two consecutive 2 s windows."""
    t0, ok, told = time.time(), 0, False
    while time.time() - t0 < max_wait:
        c0, w0 = _foreign_ticks(), time.time()
        time.sleep(2)
        cores = (_foreign_ticks() - c0) / os.sysconf("SC_CLK_TCK") / (time.time() - w0)
        ok = ok + 1 if cores < quiet_cores else 0
        if ok >= 2:
            return time.time() - t0
        if not told:
            print(
                f"   (waiting for a quiet machine: foreign processes use {cores:.2f} cores)",
                flush=True,
            )
            told = True
    print(f"   (still busy after {max_wait:.0f}s: measuring anyway, see foreign-cpu)", flush=True)
    return time.time() - t0


class ForeignCpu:
    def __enter__(self) -> ForeignCpu:
        self.t0, self.c0 = time.time(), _foreign_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        ticks = _foreign_ticks() - self.c0
        self.cores = max(0, ticks) / os.sysconf("SC_CLK_TCK") / max(1e-6, time.time() - self.t0)


# --- runs ----------------------------------------------------------------------------------------


def wrk(url: str, op: str, conc: int, secs: int, data: str, threads: int) -> dict:
    env = dict(
        os.environ, PAHT_OP=op, PAHT_OPFILE=str(HERE / "ops" / f"{op}.graphql"), PAHT_DATA=data
    )
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conc}",
        f"-d{secs}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(HERE / "load_paht.lua"),
        url,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    m = re.search(r"^WRK_RESULT (\{.*\})$", out.stdout, re.M)
    if not m:
        sys.exit(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    result = json.loads(m.group(1))
    sample = re.search(r"^WRK_SAMPLE_ERROR (.*)$", out.stdout, re.M)
    if sample:
        result["sample_error"] = sample.group(1)[:400]
    return result


async def pgss_reset(dsn: str) -> None:
    con = await asyncpg.connect(dsn)
    try:
        await con.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await con.execute("SELECT pg_stat_statements_reset()")
    finally:
        await con.close()


async def pgss_read(dsn: str) -> list[dict]:
    con = await asyncpg.connect(dsn)
    try:
        rows = await con.fetch(
            """SELECT s.calls, s.total_exec_time, s.rows, s.query FROM pg_stat_statements s
               JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles u ON u.oid = s.userid
               WHERE d.datname = current_database() AND u.rolname <> 'postgres'"""
        )
    finally:
        await con.close()
    return [dict(r) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    ap.add_argument("--op", default="a_list,b_detail", help="comma list of " + "|".join(OPS))
    ap.add_argument("--database", default="paht_bench")
    ap.add_argument("--dsn", default=None, help="superuser DSN of the bench database")
    ap.add_argument("-c", "--concurrency", type=int, nargs="+", default=[1, 32])
    ap.add_argument("-d", "--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-tenants", type=int, default=1000)
    ap.add_argument("--ids-per-tenant", type=int, default=200)
    ap.add_argument("--jwt-secret", default=os.environ.get("PAHT_JWT_SECRET"))
    ap.add_argument("--issuer", default=os.environ.get("PAHT_JWT_ISSUER", "paht"))
    ap.add_argument("--audience", default=os.environ.get("PAHT_JWT_AUDIENCE", "paht-api"))
    ap.add_argument("--pgss", action="store_true", help="DB statements and DB ms per request")
    ap.add_argument(
        "--top", type=int, default=0, help="with --pgss: print the N costliest statements"
    )
    ap.add_argument(
        "--max-wait",
        type=float,
        default=float(os.environ.get("BENCH_MAX_WAIT", 60)),
        help="seconds to wait for other processes to go quiet before each run (0: never)",
    )
    ap.add_argument("--label", default="")
    ap.add_argument("--out", default=str(HERE / "results" / "paht.jsonl"))
    a = ap.parse_args()
    if not a.jwt_secret:
        sys.exit("set PAHT_JWT_SECRET (the server's signing secret) or pass --jwt-secret")

    dsn = a.dsn or default_dsn(a.database)
    tenants = asyncio.run(tenant_samples(dsn, a.ids_per_tenant, a.max_tenants))
    if not tenants:
        sys.exit("no bench tenants found: run bench/seed_paht.py first")
    asyncio.run(open_sessions(dsn, tenants))
    data = write_lua_data(tenants, a.jwt_secret, a.issuer, a.audience)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    print(f"# {a.url} tenants={len(tenants)} label={a.label!r}")
    print(
        f"{'op':<12} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}"
        + ("  stmts/req  db-ms/req" if a.pgss else "")
        + "  foreign-cpu"
    )
    try:
        for op in a.op.split(","):
            for conc in a.concurrency:
                threads = min(a.threads, conc)
                if a.max_wait > 0:
                    wait_quiet(a.max_wait)
                if a.warmup:
                    wrk(a.url, op, conc, a.warmup, data, threads)
                if a.pgss:
                    asyncio.run(pgss_reset(dsn))
                with ForeignCpu() as fc:
                    r = wrk(a.url, op, conc, a.duration, data, threads)
                r["foreign_cores"] = round(fc.cores, 3)
                r["server_rss_mb"] = server_rss_mb()
                extra = ""
                if a.pgss:
                    stmts = asyncio.run(pgss_read(dsn))
                    n = max(1, r["requests"])
                    r["db_stmts_per_req"] = sum(s["calls"] for s in stmts) / n
                    r["db_ms_per_req"] = sum(s["total_exec_time"] for s in stmts) / n
                    extra = f"  {r['db_stmts_per_req']:>9.2f}  {r['db_ms_per_req']:>9.3f}"
                    stmts.sort(key=lambda s: s["total_exec_time"], reverse=True)
                    r["db_top"] = [
                        {
                            "calls_per_req": round(s["calls"] / n, 3),
                            "mean_ms": round(s["total_exec_time"] / max(1, s["calls"]), 4),
                            "query": " ".join(s["query"].split())[:600],
                        }
                        for s in stmts[:8]
                    ]
                errors = r["gql_errors"] + r["non2xx"] + r["socket_errors"]
                print(
                    f"{op:<12} {conc:>4} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
                    f"{r['p99_ms']:>8.2f} {errors:>7}{extra}  {fc.cores:.2f}",
                    flush=True,
                )
                if "sample_error" in r:
                    print("   sample error:", r["sample_error"][:300])
                if a.pgss and a.top:
                    for s in r["db_top"][: a.top]:
                        print(
                            f"     {s['calls_per_req']:>6.2f}/req {s['mean_ms']:>8.3f} ms  {s['query'][:160]}"
                        )
                with open(a.out, "a") as fh:
                    fh.write(
                        json.dumps(
                            dict(
                                r,
                                op=op,
                                concurrency=conc,
                                duration=a.duration,
                                url=a.url,
                                label=a.label,
                                server="paht",
                                ts=time.time(),
                            )
                        )
                        + "\n"
                    )
    finally:
        os.unlink(data)


if __name__ == "__main__":
    main()
