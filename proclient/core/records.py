"""The creation's records: the request sent to the service (TD1.1 / TD1.2, TD1.5), its
result, and the papers made of it (the accusé, the offline slip, the secrets sheet).

Its own module because a request carries both the trade's nouns (proclient.core.domain) and
the identity checked against INSi (proclient.core.identity): neither of those imports the
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from proclient.core.domain import (
    Action,
    Consent,
    LegalRepresentative,
    Patient,
    Professional,
    WebAccess,
)
from proclient.core.identity import IdentityCheck


@dataclass(frozen=True)
class CreationRequest:
    """Everything the service needs for TD1.1 / TD1.2 (and TD1.5 when web access is asked)."""

    action: Action
    patient: Patient
    consent: Consent
    legal_representative: LegalRepresentative | None = None
    web_access: WebAccess | None = None
    identity: IdentityCheck | None = None
    """Identity vigilance: INSi's identity, the document seen, the RNIV status."""


@dataclass(frozen=True)
class WebCredentials:
    """The patient's login and initial password: printed once, never stored (HOM 112)."""

    login: str
    initial_password: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class CreationResult:
    action: Action
    dmp_id: str
    at: datetime
    web: WebCredentials | None = None
    statement: str | None = None
    """The service's signed statement of the operation (core/proof/statement.py): the text
    of the accusé's 2D code; None from a service without a document-signing key."""


@dataclass(frozen=True)
class CreationReceipt:
    """The accusé de création: what was done, for whom, by whom, with which choices.

    It never carries the login or initial password: those go on the separate secrets sheet."""

    request: CreationRequest
    professional: Professional
    dmp_id: str
    at: datetime
    demo: bool = False
    consent_captured_at: datetime | None = None
    """When the consent was recorded offline (the creation came later), or None."""
    statement: str | None = None
    """The service's signed statement (CreationResult.statement), drawn as a 2D code."""

    @property
    def patient(self) -> Patient:
        return self.request.patient


@dataclass(frozen=True)
class RecordedSlip:
    """The slip handed to the patient when the creation was recorded offline: « demande de
    création enregistrée », when, by whom, the choices. No DMP id (there is none yet), no
    secret (online access cannot be asked offline)."""

    patient_name: str
    professional: Professional
    at: datetime
    consent: Consent
    legal_representative: LegalRepresentative | None = None
    demo: bool = False


@dataclass(frozen=True)
class SecretsSheet:
    """The separate sheet with the patient's web login and initial password."""

    patient_name: str
    login: str
    initial_password: str = field(repr=False)
    email_masked: str | None = None
    mobile_masked: str | None = None
    at: datetime | None = None
