#!/usr/bin/env python
"""Service-layer submit of the working tree against a git revision, interleaved on the same machine.

Run from the repository root:

    .venv/bin/python bench/compare.py [REV] [--rounds N] [--cases N] [--pg URL] [--no-sqlite]

REV (default main) is checked out into a temporary `git worktree` (removed at the end). Each side runs in a
child process of its own with the same Python (this venv), PYTHONPATH and working directory pointing at its
tree, and its own fresh database built by that tree's bench/bench_loop.py (`prepared_engine`: migrate, deploy,
seed units and users): a SQLite file in a temp dir, and with --pg a PostgreSQL database jn_cmp_* on that server
(its role must be allowed to CREATE DATABASE; dropped at the end). Both children warm up with 5 cases, then the
parent has them take turns, ABBA (working tree first in even rounds, REV first in odd ones), `--cases` cases
a turn, `--rounds` turns each: each case is registered (not timed) and driven through the department path
(dispatch -> sign_for -> handle -> verify -> revisit -> close_out) with `engine.services.tasks.complete_task`,
timing each call. Only one side runs at a time, so both see the same machine load.

Prints the machine facts and one table: median and p95 of a completion per side, their ratio (working tree /
REV; below 1 is faster), the range of the per-round ratios (a feel for the noise), CPU time per completion, and
SQL statements per completion (cursor executions during complete_task, BEGIN/COMMIT/ROLLBACK not counted; an
executemany is one). The last lines say it in one sentence per backend, e.g. "submit 0.93x of main (sqlite)".
Never asserts on time; exits 0 unless a side fails.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_CASES = 5
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


# ----------------------------------------------------------------------------------------------------------
# The child: one tree, one database, runs batches of cases when told to


def child(root: Path, url: str, upload_dir: Path) -> int:
    """Serve `run N` lines on stdin with one JSON line of samples each; uses `root`'s engine and bench_loop."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in (here, str(ROOT), "")]
    sys.path[:0] = [str(root), str(root / "bench")]
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the protocol

    import bench_loop as loop  # that tree's helpers, written against that tree's engine
    from sqlalchemy import event

    from engine.services import tasks

    if not Path(loop.__file__).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"bench_loop came from {loop.__file__}, not from {root}")
    eng = loop.prepared_engine(url, upload_dir)
    counting = [False, 0]

    @event.listens_for(eng.db.engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _parameters, _context, _executemany):
        if counting[0] and not statement.lstrip().upper().startswith(CONTROL):
            counting[1] += 1

    actors = loop.Actors(eng)
    for user in ["registrar", "dispatcher", *[f"handler_{lead}" for lead in loop.LEADS]]:
        actors(user)
    enterprises = loop.enterprise_ids(eng)
    items = loop._sample_items(1000)
    done = [0]

    def run(n_cases: int) -> dict:
        out = {"wall": [], "cpu": [], "statements": [], "task": []}
        for _ in range(n_cases):
            i = done[0]
            done[0] += 1
            lead = loop.LEADS[i % len(loop.LEADS)]
            case_id = loop.register(eng, actors, enterprises[i % len(enterprises)], items[i % len(items)])
            task_id = loop.open_task_id(eng, case_id)
            for name, role, data in loop.DEPARTMENT_PATH:
                actor, payload = actors(loop.user_for(role, lead)), loop.form_data(data, lead)
                counting[:] = [True, 0]
                cpu = time.process_time()
                started = time.perf_counter()
                result = tasks.complete_task(eng, actor, task_id, payload)
                out["wall"].append(time.perf_counter() - started)
                out["cpu"].append(time.process_time() - cpu)
                out["statements"].append(counting[1])
                out["task"].append(name)
                counting[0] = False
                nxt = result["next_tasks"]
                task_id = nxt[0]["task_id"] if nxt else None
        return out

    run(WARM_CASES)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        command, _sep, arg = line.strip().partition(" ")
        if command != "run":
            break
        protocol.write(json.dumps(run(int(arg))) + "\n")
    eng.dispose()
    return 0


# ----------------------------------------------------------------------------------------------------------
# The parent


class Side:
    """One child process: a tree on a database."""

    def __init__(self, label: str, root: Path, url: str, tmp: Path, log_name: str):
        self.label = label
        self.samples = {"wall": [], "cpu": [], "statements": [], "task": []}
        self.round_medians: list[float] = []
        tmp.mkdir(parents=True, exist_ok=True)
        self.log_path = tmp / f"{log_name}.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONPATH=str(root))
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(root), url, str(tmp / "uploads")],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            tail = self.log_path.read_text("utf-8", "replace")[-3000:]
            raise RuntimeError(f"{self.label} exited with {self.proc.returncode}:\n{tail}")
        return json.loads(line)

    def wait_ready(self) -> None:
        self._answer()

    def run(self, n_cases: int) -> None:
        self.proc.stdin.write(f"run {n_cases}\n")
        self.proc.stdin.flush()
        batch = self._answer()
        for key, values in batch.items():
            self.samples[key].extend(values)
        self.round_medians.append(statistics.median(batch["wall"]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def describe_tree() -> str:
    head = git("log", "-1", "--format=%h %s")[:70]
    dirty = git("status", "--porcelain", "--untracked-files=no", "engine", "web", "processes", "forms")
    return f"{head}{' (+ uncommitted changes)' if dirty else ''}"


def compare_backend(backend: str, urls: tuple[str, str], rev_root: Path, rev: str, tmp: Path, args) -> dict:
    sides = [
        Side("working tree", ROOT, urls[0], tmp / f"{backend}_tree", f"{backend}_tree"),
        Side(rev, rev_root, urls[1], tmp / f"{backend}_rev", f"{backend}_rev"),
    ]
    try:
        for side in sides:
            side.wait_ready()
        for round_no in range(args.rounds):
            for side in sides if round_no % 2 == 0 else reversed(sides):
                side.run(args.cases)
            log(
                f"{backend} round {round_no + 1}/{args.rounds}: "
                + ", ".join(f"{s.label} {s.round_medians[-1] * 1000:.2f} ms" for s in sides)
            )
    finally:
        for side in sides:
            side.stop()
    return {"sides": sides}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def report(results: dict, rev: str, commit: str) -> list[str]:
    from bench_loop import Table
    from bench_loop import pct

    table = Table()
    sentences = []
    for backend, result in results.items():
        tree, other = result["sides"]
        wall = [statistics.median(s.samples["wall"]) for s in (tree, other)]
        ratio = wall[0] / wall[1]
        per_round = sorted(a / b for a, b in zip(tree.round_medians, other.round_medians, strict=True))
        for side, label in ((tree, "working tree"), (other, f"{rev} ({commit[:7]})")):
            samples = side.samples
            table.ms(f"submit (complete_task), {label}", backend, samples["wall"])
            table.ms("  its CPU time", backend, samples["cpu"])
            statements = samples["statements"]
            by_task = {}
            for name, count in zip(samples["task"], statements, strict=True):
                by_task.setdefault(name, []).append(count)
            table.add(
                "  SQL statements per completion (dispatch / close_out)",
                backend,
                f"{statistics.mean(statements):.1f}",
                f"{statistics.mean(by_task['dispatch']):.1f} / {statistics.mean(by_task['close_out']):.1f}",
                len(statements),
            )
        table.add(
            "ratio of medians, working tree / REV",
            backend,
            f"{ratio:.2f}x",
            f"{pct(tree.samples['wall'], 95) / pct(other.samples['wall'], 95):.2f}x",
            f"{len(per_round)} rounds",
            f"rounds {per_round[0]:.2f}-{per_round[-1]:.2f}x",
        )
        sentences.append(
            f"submit {ratio:.2f}x of {rev} ({backend}: {wall[0] * 1000:.2f} ms vs {wall[1] * 1000:.2f} ms)"
        )
    return [table.render(), "", *sentences]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(Path(argv[1]), argv[2], Path(argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", nargs="?", default="main", help="git revision to compare with (default main)")
    parser.add_argument("--rounds", type=int, default=10, help="turns per side (default 10)")
    parser.add_argument(
        "--cases", type=int, default=20, help="cases per turn, 6 completions each (default 20)"
    )
    parser.add_argument("--pg", help="also on PostgreSQL: an admin URL whose role may CREATE DATABASE")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only (needs --pg)")
    args = parser.parse_args(argv)

    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from bench_loop import load_average
    from bench_loop import machine_facts

    commit = git("rev-parse", "--verify", f"{args.rev}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="jienan-compare-"))
    rev_root = tmp / "rev"
    pg_databases: list[str] = []
    admin = None

    def cleanup() -> None:
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                for name in pg_databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "remove", "--force", str(rev_root))
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "prune")

    atexit.register(cleanup)
    git("worktree", "add", "--detach", str(rev_root), commit)
    load_start = load_average()
    started = time.perf_counter()
    results = {}
    pg_version = None
    if not args.no_sqlite:
        urls = (f"sqlite:///{tmp / 'tree.db'}", f"sqlite:///{tmp / 'rev.db'}")
        results["sqlite"] = compare_backend("sqlite", urls, rev_root, args.rev, tmp, args)
    if args.pg:
        from sqlalchemy import create_engine
        from sqlalchemy import text

        from engine.storage.db import normalise_url

        admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
        urls = []
        with admin.connect() as conn:
            pg_version = conn.execute(text("SHOW server_version")).scalar()
            for tag in ("tree", "rev"):
                name = f"jn_cmp_{tag}_{uuid.uuid4().hex[:8]}"
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                pg_databases.append(name)
                urls.append(f"{args.pg.rpartition('/')[0]}/{name}")
        results["postgresql"] = compare_backend("postgresql", tuple(urls), rev_root, args.rev, tmp, args)
    print("\n".join(machine_facts(pg_version, load_start, describe_tree())))
    print(
        f"run:       {args.rounds} rounds x {args.cases} cases x 6 completions per side, ABBA, against "
        f"{args.rev} = {git('log', '-1', '--format=%h %s', commit)[:70]}; {time.perf_counter() - started:.0f} s"
    )
    print()
    print("\n".join(report(results, args.rev, commit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
