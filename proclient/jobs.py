"""One job runner, one error policy, for every piece of I/O the App starts.

A job is a controller call run as a Textual worker:

- owned by the **screen that asked** when its answer only matters there (the PIN probe, the
  login, the creation, the journal): Textual cancels it when that screen goes;
- owned by the **App** when it outlives screens (the card read, the service start, printing).

Blocking calls (card APDUs, PKCS#11, files, ``lp``) run in a thread; coroutines (HTTP) on the
event loop. Whatever happens the policy is the same: a :class:`DomainError` becomes a
:class:`JobFailed` (its stable code and French sentence) posted to the owner when it is a
screen; anything else is logged without its message (``logsafe``: it may hold health data)
and becomes the one unexpected-error sentence. No worker ever exits the App.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.worker import Worker

from proclient.core.domain import DomainError
from proclient.core.i18n import N_, _
from proclient.core.logsafe import UNEXPECTED, log_unexpected
from proclient.messages import JobFailed

log = logging.getLogger("proclient.jobs")

CANCELLED = N_("Attente arrêtée : rien de ce qui est saisi n'est perdu.")

Done = Callable[[Any], None]
Failed = Callable[[JobFailed], None]


class JobRunner:
    def __init__(self, app: App) -> None:
        self._app = app
        self.refused: Failed | None = None
        """Told of every refusal (a DomainError), before the job's own ``failed``: the
        session route locks when an e-CPS session has ended."""

    def run(
        self,
        name: str,
        call: Callable[[], Any],
        *,
        owner: DOMNode | None = None,
        thread: bool = False,
        done: Done | None = None,
        failed: Failed | None = None,
        exclusive: bool = True,
    ) -> Worker:
        """Run ``call`` (a coroutine function, or a blocking function with ``thread``) as a
        worker of ``owner`` (the App when None). ``done(result)`` and ``failed(failure)`` run
        on the event loop; the failure is also posted to ``owner`` when it is a screen."""
        node = owner or self._app

        async def job() -> None:
            failure: JobFailed | None = None
            try:
                if thread:
                    result = await asyncio.to_thread(call)
                else:
                    result = await call()
                if done is not None:
                    done(result)
                return
            except DomainError as error:
                failure = JobFailed(name, error.code, error.message)
                if self.refused is not None:
                    self.refused(failure)
            except asyncio.CancelledError:
                # Esc during a wait, or the owner screen gone: the route's ``failed`` still
                # runs (a creation in flight is over), then the cancellation goes on.
                if failed is not None:
                    failed(JobFailed(name, "CANCELLED", _(CANCELLED)))
                if node is not self._app and node.is_attached:
                    node.post_message(JobFailed(name, "CANCELLED", _(CANCELLED)))
                raise
            except Exception:
                log_unexpected(log, f"{name} failed")
                failure = JobFailed(name, "UNEXPECTED", _(UNEXPECTED))
            try:
                if failed is not None:
                    failed(failure)
            except Exception:
                log_unexpected(log, f"{name} failure handling failed")
            if node is not self._app and node.is_attached:
                node.post_message(failure)

        return node.run_worker(job, name=name, group=name, exclusive=exclusive, exit_on_error=False)

    def cancel(self, owner: DOMNode, *groups: str) -> None:
        """Stop the jobs of ``owner`` (a screen: all of them), or of the App in ``groups``."""
        workers = self._app.workers
        if owner is not self._app:
            workers.cancel_node(owner)
        for group in groups:
            workers.cancel_group(self._app, group)
