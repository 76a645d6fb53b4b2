"""What the summary hands over: the request to send to the service, or, when the creation is
recorded on the workstation instead, the parts of the capture to sign and keep."""

from __future__ import annotations

from proclient.core.domain import Action, Consent, DomainError, LegalRepresentative, refusal
from proclient.core.flow import CreationFlow, Step, expect_step, not_at_this_step
from proclient.core.i18n import _
from proclient.core.identity import Document, HeldIdentity
from proclient.core.records import CreationRequest


def creation_request(flow: CreationFlow) -> CreationRequest:
    """The request to send (its idempotency key is the creation controller's)."""
    expect_step(flow, Step.SUMMARY)
    if flow.offline:
        raise not_at_this_step()
    assert flow.patient is not None and flow.action is not None
    return CreationRequest(
        action=flow.action,
        patient=flow.patient,
        consent=flow.consent,
        legal_representative=flow.legal_representative,
        web_access=flow.web_access,
        identity=flow.identity,
    )


def capture_parts(
    flow: CreationFlow,
) -> tuple[HeldIdentity, Document, Consent, LegalRepresentative | None]:
    """What is recorded (and signed) for this patient: offline, or online when the live
    creation could not reach the service (the network went at the summary): a creation
    only, without online access (its password is handed over on paper at the creation)."""
    expect_step(flow, Step.SUMMARY)
    if flow.offline:
        document = flow.document
    else:
        if flow.action is not Action.CREATION:
            raise DomainError(
                "RECORD_CREATION_ONLY",
                _(
                    "Seule une création peut être enregistrée sur ce poste : réessayez la "
                    "réactivation quand le service répondra."
                ),
            )
        if flow.web_access is not None:
            raise refusal("WEB_ACCESS_OFFLINE")
        document = flow.identity.document if flow.identity is not None else None
    if flow.held is None or document is None:
        raise not_at_this_step()
    return flow.held, document, flow.consent, flow.legal_representative
