"""`proclient serve`'s processes: several workers on one socket under uvicorn's supervisor
(``server.workers``, ``--workers N``), and the Prometheus metrics' own port
(``server.metrics_port``). The settings, the app and the uvicorn server are serving.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.server.serving import ServeConfig, build_app, console_logging, uvicorn_server


def _end_with_supervisor(supervisor: int) -> None:
    """Linux: have the kernel send SIGTERM to this worker when the supervisor dies, even by
    SIGKILL, so that no orphan keeps serving (and holding the port) after it."""
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):  # no libc prctl: the supervisor's SIGTERM still works
        return
    if os.getppid() != supervisor:  # it died before prctl: nobody will send the signal
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass(frozen=True)
class WorkerApp:
    """The app factory each worker process calls (uvicorn's ``factory``), with the settings
    the supervisor resolved. Workers are spawned, not forked: this object reaches them
    pickled through multiprocessing's private pipe, with uvicorn's config, so the database
    URL (and its password) never goes through argv, the environment or a file."""

    config: ServeConfig
    supervisor: int  # the supervisor's pid

    def __call__(self):
        import logging
        import sys

        from uvicorn.config import STARTUP_FAILURE

        from proclient.core.logsafe import log_unexpected

        console_logging(with_pid=True, log_format=self.config.log_format)
        if self.config.metrics_port is not None:
            from proclient.server import metrics

            metrics.enable()  # counts into the supervisor's PROMETHEUS_MULTIPROC_DIR
        _end_with_supervisor(self.supervisor)
        log = logging.getLogger("proclient.server")
        try:
            return build_app(self.config)
        except DomainError as error:  # a sentence for the operator, without secrets
            log.error("worker start-up refused (%s): %s", error.code, error.message)
        except Exception:
            log_unexpected(log, "worker start-up failed")
        # uvicorn's supervisor stops, rather than restarting in a loop, on this exit status.
        sys.exit(STARTUP_FAILURE)


def start_metrics(config: ServeConfig, multiprocess_dir: str | None = None):
    """``config.metrics_port``: Prometheus' text format served on ``metrics_host`` (a thread
    of this process) until the returned ExitStack closes; with ``multiprocess_dir``, the sum
    of the workers' counts. Nothing to close when unset. SERVER_CONFIG when the port cannot
    be bound. Said on stdout with the service's banner."""
    from contextlib import ExitStack

    stack = ExitStack()
    if config.metrics_port is None:
        return stack
    from proclient.server import metrics

    try:
        host, port = stack.enter_context(
            metrics.serve_metrics(
                config.metrics_host, config.metrics_port, multiprocess_dir=multiprocess_dir
            )
        )
    except OSError:
        raise DomainError(
            "SERVER_CONFIG",
            _(
                "Les métriques ne peuvent pas écouter sur {host}:{port} : le port est déjà pris "
                "ou l'adresse n'est pas de cette machine. Changez server.metrics_port ou "
                "server.metrics_host.",
                host=config.metrics_host,
                port=config.metrics_port,
            ),
        ) from None
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    print(_("Métriques Prometheus sur http://{address}/metrics", address=address), flush=True)
    return stack


def serve_workers(config: ServeConfig) -> bool:
    """Serve with ``config.workers`` processes on one listening socket, under uvicorn's
    supervisor (this process): it binds the socket, spawns the workers, replaces one that
    dies, replaces them one by one on SIGHUP, and on SIGTERM or SIGINT stops them all (each
    finishes its requests first, as a single process does) before returning.

    Each worker builds its own app (its own database pool) from :class:`WorkerApp`; the
    database is what they share: idempotency records, the per-patient and per-key locks, the
    failed-authentication counts and the sessions. The caller has already built the app once
    (schema migrated, settings checked). With ``metrics_port`` the supervisor makes a private
    folder for the workers' counts before spawning them, serves their sum and removes the
    folder at the end (server/metrics.py). False when the socket could not be bound or a
    worker could not start; SERVER_CONFIG when the metrics port could not be bound."""
    import os
    from contextlib import ExitStack

    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from proclient.server import metrics

    options = uvicorn_server(config, WorkerApp(config, os.getpid())).config
    options.workers = config.workers
    options.factory = True
    with ExitStack() as stack:
        folder = None
        if config.metrics_port is not None:
            folder = stack.enter_context(metrics.multiprocess_folder())
        stack.enter_context(start_metrics(config, folder))
        try:
            sock = options.bind_socket()
        except SystemExit:  # uvicorn logged why (address in use, no permission)
            return False
        stack.callback(sock.close)
        supervisor = Multiprocess(options, sockets=[sock])
        supervisor.run()
    return all(process.exitcode != STARTUP_FAILURE for process in supervisor.processes)
