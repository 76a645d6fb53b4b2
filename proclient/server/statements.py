"""The signed statement each creation, reactivation and password reissue answer carries
(core/proof/statement.py): built from what the service recorded, signed with the service's
document-signing key (server/signing_key.py). Built inside the write transaction, it is
stored with the answer's idempotency record, so a replay carries the same statement."""

from __future__ import annotations

from datetime import UTC, datetime

from proclient.core.domain import Ins, Professional
from proclient.core.proof.statement import Kind, Statement, encode, initials, mask_ins
from proclient.server.settings import ServerSettings


def signed_statement(
    settings: ServerSettings,
    kind: Kind,
    dmp_id: str,
    at: str,
    ins: Ins,
    pro: Professional,
    *,
    patient: dict | None = None,
    consent: dict | None = None,
    representative: bool = False,
    online_access: bool | None = None,
) -> str | None:
    """The 2D code's text, or None when the service has no document signer. ``patient``:
    its ``first_name``, ``last_name`` and ``birth_date`` (AAAAMMJJ); ``consent``: the
    ConsentIn fields."""
    signer = settings.document_signer
    if signer is None:
        return None
    statement = Statement(
        kind=kind,
        reference=dmp_id,
        at=datetime.fromisoformat(at).astimezone(UTC),
        ins_masked=mask_ins(ins.value),
        ins_oid=ins.oid,
        professional_id=pro.id_nat,
        profession_code=pro.profession_code,
        initials=initials(patient["first_name"], patient["last_name"]) if patient else None,
        birth_year=int(patient["birth_date"][:4]) if patient else None,
        consent_by=(("representative" if representative else "patient") if consent else None),
        samu_access=bool(consent["samu_access"]) if consent else None,
        break_glass_access=bool(consent["break_glass_access"]) if consent else None,
        online_access=online_access,
    )
    return encode(statement, signer)
