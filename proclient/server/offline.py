"""Creations captured offline (proclient.core.capture) as the service checks them.

A nurse without network records the patient's consent at the patient's: the workstation
signs a canonical consent record with her CPS key, keeps it, and sends it with TD1.1 (or
TD1.2) once the service answers again (``capture`` in :class:`CreationIn`). The service takes
the consent as given at the record's time only when:

- no web access is asked with it: the initial password is handed over on paper at the
  creation itself (CAPTURE_WEB_ACCESS);
- the record is one (base64, :func:`proclient.core.capture.parse_record`), signed by a professional
  authentication certificate from a trusted CA valid **at the capture time** (the login's
  checks, :func:`proclient.server.pki.check_professional_signature`), its idNat_PS is the
  record's and the session's, and the capture time is not in the future beyond
  :data:`proclient.core.capture.CLOCK_SKEW` (CAPTURE_INVALID). Choice: only the professional who
  captured a consent may send it; another one would have to see the patient again;
- it is not older than ``offline_consent_max_age`` when the creation is written
  (CONSENT_STALE): checked inside the write transaction, after the idempotency record, so
  that a replay of an accepted capture still replays once the capture has aged;
- it is this request's (CAPTURE_MISMATCH): the consent flags, the legal representative (both
  normalised as the service stores them), the document seen (the ``identity`` block is
  required), and the identity held is the patient INSi gave: its NIR one of the person's
  INS values in the register (the active INS or an earlier matricule), or without a NIR its
  birth date and sex INSi's.

Refusals are logged with their code and the professional's idNat_PS only: never a name, a
NIR or the record's content.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509

from proclient.core.capture import Capture, RecordInvalid, capture_age_problem, parse_record
from proclient.core.domain import DomainError, Professional, compact_nir, make_legal_representative
from proclient.core.identity import Document
from proclient.server.pki import CertificateRejected, check_professional_signature
from proclient.server.problems import Problem
from proclient.server.register import RegisterIdentity
from proclient.server.schemas import CaptureIn

log = logging.getLogger("proclient.server")


def _refuse(code: str, pro: Professional) -> Problem:
    log.info("offline capture refused: %s (professional %s)", code, pro.id_nat)
    return Problem(code)


def verify_capture(
    sent: CaptureIn,
    pro: Professional,
    trusted: Sequence[x509.Certificate],
    now: datetime,
    max_age: timedelta,
) -> Capture:
    """The capture behind ``sent`` once its record, signature, signer and time check;
    CAPTURE_INVALID otherwise. Nothing here changes as time passes but the capture's age
    (checked later, :func:`require_fresh`): an accepted capture would pass again."""
    try:
        record = base64.b64decode(sent.record, validate=True)
        capture = parse_record(record)
        signer = check_professional_signature(
            sent.certificate.encode(), sent.signature, record, trusted, capture.captured_at
        )
    except (binascii.Error, ValueError, RecordInvalid, CertificateRejected):
        # ValueError: base64 or a PEM text that does not encode (UnicodeEncodeError).
        raise _refuse("CAPTURE_INVALID", pro) from None
    if not signer.id_nat == capture.id_nat == pro.id_nat:
        raise _refuse("CAPTURE_INVALID", pro)
    if capture_age_problem(capture.captured_at, now, max_age) == "CAPTURE_INVALID":
        raise _refuse("CAPTURE_INVALID", pro)
    return capture


def require_fresh(capture: Capture, pro: Professional, now: datetime, max_age: timedelta) -> None:
    """CONSENT_STALE when the capture is older than ``max_age`` (CAPTURE_INVALID should the
    service's clock have gone back before it)."""
    code = capture_age_problem(capture.captured_at, now, max_age)
    if code is not None:
        raise _refuse(code, pro)


def require_match(
    capture: Capture,
    pro: Professional,
    consent: dict,
    representative: dict | None,
    document: Document | None,
    identity: RegisterIdentity,
) -> None:
    """CAPTURE_MISMATCH unless the capture is this request's: ``consent`` (the body's flags),
    ``representative`` (the body's, normalised by make_legal_representative), ``document``
    (the body's identity block; None without one) and ``identity``, the person INSi gave
    for the request's INS (server/insi.py's creation gate)."""
    held = capture.held
    if held.nir:
        values = {compact_nir(own.value) for own in (identity.ins, *identity.history)}
        same_person = compact_nir(held.nir) in values
    else:
        same_person = (
            held.birth_date.raw == identity.birth_date
            and held.sex is not None
            and held.sex.value == identity.sex
        )
    if not (
        same_person
        and document is not None
        and capture.document is document
        and (
            capture.consent.creation,
            capture.consent.samu_access,
            capture.consent.break_glass_access,
        )
        == (consent["creation"], consent["samu_access"], consent["break_glass_access"])
        and _representative(capture) == representative
    ):
        raise _refuse("CAPTURE_MISMATCH", pro)


def _representative(capture: Capture) -> dict | None | bool:
    """The record's representative as the service stores one; False when the record's would
    be refused (then it matches no request)."""
    rep = capture.legal_representative
    if rep is None:
        return None
    try:
        rep = make_legal_representative(rep.relationship.value, rep.last_name, rep.first_name)
    except DomainError:
        return False
    return rep.fields()
