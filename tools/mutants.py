"""A curated mutation runner: does the suite catch the bugs that matter?

Each mutation in ``tools/mutations.py`` and ``tools/mutations_workflow.py`` is a realistic bug
written as an exact search/replace on one source file (a dropped FORCE, a policy that is
``true``, a narrowing ignored, ``>`` for ``>=`` at a deadline, a skipped check). For each one
the runner applies it, runs the tests that should catch it (``-x``, a timeout, fixed order),
restores the file, and reports killed or survived.

Why not mutmut: mutmut 3 mutates only inside functions (the RLS policies are module-level SQL
text in migrations), runs the suite from a copy of the tree under ``mutants/`` (a second embedded
PostgreSQL cluster per copy) and generates syntactic mutants by the hundred, most of them noise
for a database-backed suite that takes minutes. Named, realistic mutations give a score that
means something and run in minutes.

    .venv/bin/python tools/mutants.py            # all mutations (make mutants)
    .venv/bin/python tools/mutants.py -k rls     # names containing "rls"
    .venv/bin/python tools/mutants.py --list     # names and the tests each one runs
    .venv/bin/python tools/mutants.py --check    # every snippet still matches exactly once

The source file is always restored (also on Ctrl-C or SIGTERM). The runner refuses to start when
a target file has uncommitted changes, so a file left mutated by a killed runner shows up in
``git status`` and ``git checkout -- FILE`` restores it.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.mutations import MUTATIONS, Mutation  # noqa: E402


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def applied(mutation: Mutation) -> Iterator[None]:
    path = ROOT / mutation.path
    original = path.read_bytes()
    text = original.decode()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.name}: snippet does not occur exactly once in {mutation.path}")
    try:
        path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
        yield
    finally:
        path.write_bytes(original)


def run_tests(tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout' | 'error', seconds, the failing test or last line)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        *tests,
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started, ""
    lines = [x for x in done.stdout.splitlines() if x.strip()]
    # The test that caught it (the -ra summary names it), else pytest's closing line.
    caught = [
        x.split(" - ")[0]
        for x in lines
        if x.startswith(("FAILED ", "ERROR ", "SUBFAIL")) and "::" in x.split(" - ")[0]
    ]
    last = caught[0] if caught else lines[-1] if lines else done.stderr.strip()[-200:]
    outcome = {0: "passed", 1: "failed"}.get(done.returncode, "error")
    return outcome, time.monotonic() - started, last


def dirty(paths: set[str]) -> list[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--", *sorted(paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="pattern", default="", help="only names containing this")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--check", action="store_true", help="check the snippets and exit")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per test run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("--allow-dirty", action="store_true", help="run on uncommitted files")
    args = parser.parse_args()

    chosen = [m for m in MUTATIONS if args.pattern in m.name]
    if args.list:
        for m in chosen:
            print(f"{m.name:44} {m.path:32} {' '.join(m.tests)}")
        return 0

    def matches(m: Any) -> bool:
        path = ROOT / m.path
        return path.is_file() and path.read_text().count(m.old) == 1

    stale = [m.name for m in chosen if not matches(m)]
    if stale or args.check:
        for name in stale:
            print(f"STALE   {name}: its snippet no longer matches exactly once")
        print(f"{len(chosen) - len(stale)}/{len(chosen)} snippets match")
        return 1 if stale else 0
    changed = dirty({m.path for m in chosen})
    if changed and not args.allow_dirty:
        print("uncommitted changes in mutation targets (commit or pass --allow-dirty):")
        print("\n".join(changed))
        return 2

    signal.signal(signal.SIGTERM, _terminate)
    if not args.no_baseline:
        tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        outcome, seconds, last = run_tests(tests, args.timeout * 2)
        print(f"baseline  {outcome:8} {seconds:6.1f}s  {last}")
        if outcome != "passed":
            print("the unmutated tests must pass first")
            return 2

    results: dict[str, list[str]] = {"killed": [], "survived": [], "error": []}
    try:
        for m in chosen:
            with applied(m):
                outcome, seconds, last = run_tests(m.tests, args.timeout)
            verdict = {"passed": "survived", "failed": "killed", "timeout": "killed"}.get(
                outcome, "error"
            )
            results[verdict].append(m.name)
            print(f"{verdict.upper():9} {m.name:44} {seconds:6.1f}s  {last}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: the mutated file was restored")
        return 130
    scored = len(results["killed"]) + len(results["survived"])
    print(f"\nscore: {len(results['killed'])}/{scored} killed", end="")
    print(f" ({100 * len(results['killed']) / scored:.0f} %)" if scored else "")
    for name in results["survived"]:
        print(f"  survived: {name}")
    for name in results["error"]:
        print(f"  error (the tests did not run; fix the mutation): {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
