"""``paht serve --workers N``: N server processes on one port, each with its own listening
socket (``SO_REUSEPORT``), so that the kernel spreads new connections over them by their
addresses.

With one socket shared by every worker (``uvicorn --workers``), whichever worker wakes first
accepts a whole burst of connections, and under keep-alive they stay with it: the benchmark's
32 connections were seen all on one of two workers (issue 11). Each worker runs the whole app,
with its own pool and background loops (the job and outbox passes take an advisory lock: one
runner at a time). A worker that dies stops the others and the command fails, for the service
manager (compose, systemd) to restart: a half-sized server is not left running unnoticed."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
from multiprocessing.connection import wait
from types import FrameType

from api.settings import Settings

log = logging.getLogger("paht.workers")


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(settings: Settings, app_url: str, host: str, port: int) -> None:
    import uvicorn

    from api.app import create_app
    from api.observability import configure_logging

    configure_logging(settings.debug)
    sock = listening_socket(host, port)
    config = uvicorn.Config(
        create_app(settings, app_url),
        log_config=None,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(settings: Settings, app_url: str, host: str, port: int, workers: int) -> int:
    """Run ``workers`` processes until SIGTERM/SIGINT (passed on to each, which then shuts
    down gracefully) or until one of them exits; the exit status: 0 after a signal."""
    context = multiprocessing.get_context("spawn")  # no state shared with this process
    processes = [
        context.Process(
            target=_worker, args=(settings, app_url, host, port), name=f"paht-worker-{n}"
        )
        for n in range(1, workers + 1)
    ]
    stopping = False

    def stop(signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        log.info("workers started", extra={"workers": workers, "port": port})
        running, failed = list(processes), False
        while running:
            ready = set(wait([p.sentinel for p in running]))
            # A sentinel is ready once the process has closed its descriptors, a moment before
            # it can be reaped: join it, or its exit code may still read None.
            ended = [p for p in running if p.sentinel in ready]
            for process in ended:
                process.join()
            running = [p for p in running if p not in ended]
            if not stopping:  # unasked: the others are stopped, and waited for
                for process in ended:
                    log.error(
                        "worker exited", extra={"worker": process.name, "code": process.exitcode}
                    )
                failed = True
                stop()
        return 1 if failed else 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
