"""Accusé de création rendering next to a minimal one-paragraph reportlab page (target ≤ 3×).

Two floors: the one-paragraph page in Helvetica (no font to embed) and in the same embedded
DejaVu font as the receipt (the honest comparison: embedding is the price of the accents).
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import UTC, datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from proclient.core.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    Ins,
    LegalRepresentative,
    Patient,
    Professional,
    Relationship,
    Sex,
    WebAccess,
)
from proclient.core.identity import (
    Document,
    HeldIdentity,
    IdentityCheck,
    IdentityStatus,
    InsiIdentity,
    InsiTraits,
)
from proclient.core.records import CreationReceipt, CreationRequest
from proclient.receipts.fonts import REGULAR, register_fonts
from proclient.receipts.pdf import render_receipt

RUNS = 30

# The worst case: a minor, qualified on the family book, with online access.
CHECK = IdentityCheck(
    InsiIdentity(
        Ins("215067511203450", OID_INS_NIR_TEST),
        InsiTraits("DURAND", ("LEA",), Sex.FEMALE, BirthDate("20150603"), "75112"),
    ),
    HeldIdentity("DURAND", "Léa", BirthDate("20150603"), Sex.FEMALE, "215067511203450"),
    (),
    Document.FAMILY_BOOK,
    IdentityStatus.QUALIFIED,
)
PATIENT: Patient = CHECK.patient

RECEIPT = CreationReceipt(
    request=CreationRequest(
        Action.CREATION,
        PATIENT,
        Consent(creation=True, samu_access=False),
        LegalRepresentative(Relationship.MTH, "DURAND", "Sophie"),
        WebAccess(email="sophie.durand@exemple.fr", mobile="+33612345678"),
        identity=CHECK,
    ),
    professional=Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare"),
    dmp_id="DMP-000001",
    at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    demo=True,
)


def one_paragraph(font: str) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, invariant=1)
    doc.build([Paragraph("Accusé de création du DMP", ParagraphStyle("p", fontName=font))])
    return out.getvalue()


def median(fn) -> float:
    """The lower quartile of RUNS timings: steadier than the median on a shared machine."""
    fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.quantiles(samples, n=4)[0]


def main() -> None:
    register_fonts()
    dejavu = REGULAR
    a4 = median(lambda: render_receipt(RECEIPT, page="a4"))
    roll = median(lambda: render_receipt(RECEIPT, page="80mm"))
    helvetica = median(lambda: one_paragraph("Helvetica"))
    embedded = median(lambda: one_paragraph(dejavu))
    print(f"one paragraph, Helvetica (floor)      : {helvetica * 1000:6.1f} ms")
    print(f"one paragraph, embedded DejaVu (floor): {embedded * 1000:6.1f} ms")
    print(
        f"accusé A4                             : {a4 * 1000:6.1f} ms = "
        f"{a4 / embedded:.1f}x the DejaVu floor, {a4 / helvetica:.1f}x Helvetica (target <= 3x)"
    )
    print(
        f"accusé 80 mm roll                     : {roll * 1000:6.1f} ms = "
        f"{roll / embedded:.1f}x the DejaVu floor"
    )


if __name__ == "__main__":
    main()
