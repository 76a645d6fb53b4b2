"""Accusé de création rendering next to a minimal one-paragraph reportlab page (target ≤ 3×),
and the accusé signed (PAdES B-B, pyHanko) next to the plain render.

Two floors: the one-paragraph page in Helvetica (no font to embed) and in the same embedded
DejaVu font as the receipt (the honest comparison: embedding is the price of the accents).
The signed accusé is timed with the demo's software key and, when SoftHSM2 is installed, with
the demo CPS on a SoftHSM2 token (the card's session opened once, as after step 2); and the
check ``proclient verify`` makes of it. The demo PKI is made in a temporary folder.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

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

    signed(a4)


@contextlib.contextmanager
def _credentials():
    """(name, credential) of the demo's software key, and of its SoftHSM2 card if any."""
    from proclient.credentials.pkcs11 import CpsToken
    from proclient.credentials.softhsm import DEMO_TOKEN_LABEL, ensure_demo_token
    from proclient.credentials.software import unlock_demo
    from proclient.server.demo import ensure_demo_pki

    with tempfile.TemporaryDirectory() as folder:
        pki = ensure_demo_pki(Path(folder) / "pki")
        user = pki.default
        found = [("software key", unlock_demo(user))]
        store = ensure_demo_token(Path(folder) / "softhsm", user.key_path, user.cert_path, user.pin)
        card = None
        if store is not None:
            token = CpsToken(
                store.module_path, token_label=DEMO_TOKEN_LABEL, environment=store.environment
            )
            card = token.unlock(bytearray(user.pin.encode()))
            found.append(("SoftHSM2 card", card))
        try:
            yield pki, found
        finally:
            if card is not None:
                card.close()


def signed(plain: float) -> None:
    from cryptography import x509

    from proclient.receipts.content import signed_note
    from proclient.receipts.signing import sign_pdf
    from proclient.receipts.verification import verify_pdf

    warnings.simplefilter("ignore")  # pyHanko's import names DSA, which cryptography deprecates
    with _credentials() as (pki, credentials):
        ca = x509.load_pem_x509_certificate(pki.ca_pem)
        note = signed_note(RECEIPT.professional)
        for name, credential in credentials:

            def render_and_sign(credential=credential):
                pdf = render_receipt(RECEIPT, "a4", note)
                with credential.document_signer() as signer:
                    return sign_pdf(pdf, signer)

            took = median(render_and_sign)
            print(
                f"accusé A4 signed, {name:<20}: {took * 1000:6.1f} ms = "
                f"{took / plain:.1f}x the plain A4 render (+{(took - plain) * 1000:.1f} ms)"
            )
        pdf = render_and_sign()
        check = median(lambda: verify_pdf(pdf, [ca]))
        print(f"proclient verify of a signed accusé   : {check * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
