"""The client's error type for the DMP service.

The vocabulary (stable codes and their French sentences) is :mod:`proclient.core.problems`, shared
with the server; its names are re-exported here for the client's callers.
"""

from __future__ import annotations

from proclient.core.domain import DomainError
from proclient.core.problems import (  # noqa: F401 (re-exported for the client's callers)
    SERVICE_ERROR,
    SERVICE_TLS,
    SERVICE_UNAVAILABLE,
    problem_message,
)


class ServiceError(DomainError):
    """The DMP service refused a request or could not be reached.

    ``code`` is the server's stable code (``DMPFound``, ``PATIENT_MINOR``…) or one of the
    client's own (``SERVICE_UNAVAILABLE``, ``SERVICE_TLS``, ``SERVICE_ERROR``); ``status`` is
    the HTTP status when there was an answer. The text never carries a token or a NIR."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code, message)
        self.status = status

    def __repr__(self) -> str:
        return f"ServiceError(code={self.code!r}, status={self.status!r})"
