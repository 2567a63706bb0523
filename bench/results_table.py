#!/usr/bin/env python3
"""Summarise bench/results/{peer,paht}.jsonl into a markdown table: per (op, concurrency), the
median req/s over rounds and the p50/p99 of the median run, for both servers, and the ratio.

  python bench/results_table.py [--label-prefix round]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load(path: Path, prefix: str) -> dict:
    runs = defaultdict(list)
    if not path.exists():
        return runs
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if prefix and not str(r.get("label", "")).startswith(prefix):
            continue
        runs[(r["op"], r["concurrency"])].append(r)
    return runs


def median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def cell(runs: list[dict]) -> str:
    if not runs:
        return "—"
    m = median_run(runs)
    errs = sum(
        r.get("gql_errors", 0) + r.get("non2xx", 0) + r.get("socket_errors", 0) for r in runs
    )
    spread = (
        f" [{min(r['rps'] for r in runs):,.0f}–{max(r['rps'] for r in runs):,.0f}]"
        if len(runs) > 1
        else ""
    )
    return f"{m['rps']:,.0f}{spread} ({m['p50_ms']:.1f}/{m['p99_ms']:.1f})" + (
        f" {errs} err" if errs else ""
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label-prefix", default="round")
    ap.add_argument(
        "--readme",
        action="store_true",
        help="also write the table into bench/README.md, between its bench:table markers",
    )
    a = ap.parse_args()
    lines: list[str] = []
    out = lines.append
    peer = load(HERE / "results" / "peer.jsonl", a.label_prefix)
    paht = load(HERE / "results" / "paht.jsonl", a.label_prefix)
    out(
        "| op | C | PostGraphile 5.1.5 JWT+RLS, PG 15 | PAHT, PG 18 | PAHT / peer | PAHT stmts/req, DB ms/req | peer stmts/req, DB ms/req | PAHT RSS per process, MiB | foreign CPU, cores (peer / PAHT) |"
    )
    out("|---|---|---|---|---|---|---|---|---|")
    for key in sorted(set(peer) | set(paht)):
        p, q = peer.get(key, []), paht.get(key, [])
        ratio = "—"
        if p and q:
            ratio = f"{statistics.median(r['rps'] for r in q) / statistics.median(r['rps'] for r in p):.2f}×"
        qs = (
            f"{statistics.median(r['db_stmts_per_req'] for r in q):.1f}, {statistics.median(r['db_ms_per_req'] for r in q):.2f}"
            if q and "db_stmts_per_req" in q[0]
            else "—"
        )
        ps = (
            f"{statistics.median(r['db_calls_per_req'] for r in p):.1f}, {statistics.median(r['db_exec_ms_per_req'] for r in p):.2f}"
            if p and "db_calls_per_req" in p[0]
            else "—"
        )
        rss = max((max(r["server_rss_mb"]) for r in q if r.get("server_rss_mb")), default=None)
        noise = " / ".join(
            f"{statistics.median(r[k] for r in runs):.2f}" if runs and k in runs[0] else "—"
            for runs, k in ((p, "foreign_cores"), (q, "foreign_cores"))
        )
        out(
            f"| {key[0]} | {key[1]} | {cell(p)} | {cell(q)} | {ratio} | {qs} | {ps}"
            f" | {f'{rss:,.0f}' if rss else '—'} | {noise} |"
        )
    table = "\n".join(lines)
    print(table)
    if a.readme:
        write_readme(HERE / "README.md", table, a.label_prefix)


def write_readme(path: Path, table: str, prefix: str) -> None:
    """Replace the table between the prefix's markers (appended with them the first time)."""
    tag = "bench:table" if prefix == "round" else f"bench:table {prefix}"
    BEGIN, END = f"<!-- {tag} -->", f"<!-- /{tag} -->"
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Latest `make bench`\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
