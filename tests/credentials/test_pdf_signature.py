"""The accusé signed PAdES by the card (a SoftHSM2 token laid out like a CPS) and by the demo's
software key, then checked by ``proclient verify``'s function: valid, one byte changed, an
update after the signature (a field edited, the page drawn over, the metadata rewritten), a
signature by another card from another CA, no signature; and the papers' fallbacks: no card
(e-CPS), a card that cannot sign, another professional's card."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from pypdf import PdfReader

from proclient.controllers.paper import PaperController
from proclient.core.domain import Professional
from proclient.core.records import CreationResult
from proclient.credentials.softhsm import provision_token
from proclient.credentials.software import SoftwareCredential, unlock_demo
from proclient.receipts.pdf import render_receipt
from proclient.receipts.signing import sign_pdf
from proclient.receipts.verification import verify_pdf
from proclient.server.pki import create_ca, issue_professional
from tests.credentials.conftest import card_states, cps_token
from tests.receipts.receipt_samples import PHARMACIST, make_receipt, pdf_text, squash


@pytest.fixture(scope="module")
def accuse() -> bytes:
    return render_receipt(make_receipt("le_goff"))


@pytest.fixture
def ca(pki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.ca_pem)


@pytest.fixture
def card(cps_store):
    credential = cps_token(cps_store).unlock(bytearray(b"1234"))
    yield credential
    credential.close()


@pytest.fixture
def card_signed(card, accuse) -> bytes:
    with card.document_signer() as signer:
        return sign_pdf(accuse, signer)


def _flip(pdf: bytes, at: int) -> bytes:
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def test_the_card_signs_through_its_open_session_and_the_accuse_verifies(cps_store, ca, accuse):
    states = card_states()
    credential = cps_token(cps_store, boundary=states).unlock(bytearray(b"1234"))
    try:
        with credential.document_signer() as signer:
            signed = sign_pdf(accuse, signer)
    finally:
        credential.close()
    assert states.logins == [0]  # the one C_Login of the unlock: no second code asked
    verdict = verify_pdf(signed, [ca])
    assert verdict.outcome == "valid", verdict
    assert verdict.details["id_nat"] == "899700024450"
    assert "Claire MARTIN" in verdict.sentence
    assert verdict.exit_code == 0
    # What a PDF reader reads: a PAdES signature field whose certificate names the signer.
    field = PdfReader(io.BytesIO(signed)).get_fields()["SignatureProfessionnel"]
    assert field["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"


def test_the_software_credential_signs_with_pyhankos_software_signer(pki, ca, accuse):
    with unlock_demo(pki.default).document_signer() as signer:
        from pyhanko.sign.signers import SimpleSigner

        assert isinstance(signer, SimpleSigner)
        signed = sign_pdf(accuse, signer)
    verdict = verify_pdf(signed, [ca])
    assert verdict.outcome == "valid", verdict
    assert verdict.details["id_nat"] == pki.default.professional.id_nat


def test_one_byte_changed_in_the_page_is_an_alteration(card_signed, ca):
    stream = card_signed.index(b"stream", card_signed.index(b"/Contents"))
    verdict = verify_pdf(_flip(card_signed, stream + 40), [ca])
    assert verdict.outcome == "altered", verdict
    assert verdict.exit_code == 20


def test_one_byte_changed_in_the_title_is_an_alteration(card_signed, ca):
    verdict = verify_pdf(_flip(card_signed, card_signed.index(b"/Title") + 9), [ca])
    assert verdict.outcome == "altered", verdict


def test_one_byte_changed_in_the_signature_itself_is_an_alteration(card_signed, ca):
    # /ByteRange [0 b c d]: the CMS in hex lies between b and c, zero-padded; its last
    # significant bytes are the RSA signature value (B-B: no unsigned attribute after it).
    start, end = map(int, re.search(rb"/ByteRange \[0 (\d+) (\d+)", card_signed).groups())
    significant = card_signed[start + 1 : end - 1].rstrip(b"0")
    at = start + 1 + len(significant) - 20
    changed = bytearray(card_signed)
    changed[at : at + 1] = b"0" if card_signed[at : at + 1] != b"0" else b"1"
    assert verify_pdf(bytes(changed), [ca]).outcome == "altered"


def _update(signed: bytes, edit) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_update_editing_a_field_after_the_signature_is_an_alteration(card_signed, ca):
    from pyhanko.pdf_utils import generic

    def edit(writer):
        field = writer.root["/AcroForm"]["/Fields"][0]
        field["/TU"] = generic.TextStringObject("Signé par le patient")
        writer.update_container(field)

    verdict = verify_pdf(_update(card_signed, edit), [ca])
    assert verdict.outcome == "altered", verdict


def test_an_update_drawing_over_the_page_is_an_alteration(card_signed, ca):
    from pyhanko.pdf_utils import generic

    def edit(writer):
        page = writer.root["/Pages"]["/Kids"][0]
        added = writer.add_object(generic.StreamObject(stream_data=b"0 0 m 500 500 l S"))
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), added])
        writer.update_container(page)

    assert verify_pdf(_update(card_signed, edit), [ca]).outcome == "altered"


def test_an_update_rewriting_the_metadata_is_an_alteration(card_signed, ca):
    """pyHanko's change analysis lets /Info change; the accusé's check does not (the
    service's statement lives there)."""
    from pyhanko.pdf_utils import generic

    def edit(writer):
        info = writer.trailer["/Info"]
        info["/Title"] = generic.TextStringObject("Accusé de création du DMP (corrigé)")
        writer.update_container(info)

    assert verify_pdf(_update(card_signed, edit), [ca]).outcome == "altered"
    assert verify_pdf(_update(card_signed, lambda writer: None), [ca]).outcome == "valid"


def test_a_signature_by_another_card_from_another_ca_is_an_unknown_signer(
    softhsm, ca, accuse, tmp_path
):
    other_ca = create_ca("Autre autorité")
    other = issue_professional(other_ca, Professional("899700099999", "FAUX", "Paul", "10"))
    store = provision_token(
        tmp_path / "other", softhsm, "AUTRE CPS", "4321", other.key, other.certificate
    )
    credential = cps_token(store, token_label="AUTRE CPS").unlock(bytearray(b"4321"))
    try:
        with credential.document_signer() as signer:
            signed = sign_pdf(accuse, signer)
    finally:
        credential.close()
    verdict = verify_pdf(signed, [ca])
    assert verdict.outcome == "unknown_key", verdict
    assert verdict.exit_code == 21
    assert "FAUX" in verdict.sentence
    assert verify_pdf(signed, [other_ca.certificate]).outcome == "valid"


def test_an_unsigned_pdf_says_so(accuse, ca):
    verdict = verify_pdf(accuse, [ca])
    assert verdict.outcome == "unsigned"
    assert verdict.exit_code == 23


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "vide"),
        (b"PK\x03\x04 a zip, not a PDF" * 10, "pas un PDF"),
        (b"%PDF-1.4\n" + b"\x00garbage" * 1000, "abîmé"),
        (b"%PDF-1.4\n" + b" " * (21 * 1024 * 1024), "trop volumineux"),
    ],
)
def test_bad_input_is_one_sentence(data, words, ca):
    verdict = verify_pdf(data, [ca])
    assert verdict.outcome == "unreadable"
    assert words in verdict.sentence
    assert "\n" not in verdict.sentence


# --- the papers: signed where the accusé is made, or unsigned and saying why -------------------


def _paper(tmp_path: Path) -> PaperController:
    return PaperController(tmp_path / "receipts", "a4")


def _result(receipt) -> CreationResult:
    return CreationResult(receipt.request.action, receipt.dmp_id, receipt.at)


def test_the_saved_accuse_is_the_signed_one(card, ca, tmp_path):
    receipt = make_receipt("le_goff", professional=card.professional)
    paper = _paper(tmp_path)
    _preview, error = paper.issue(receipt, _result(receipt), card)
    assert error == ""
    saved = paper.receipt_path.read_bytes()
    assert paper.signed and verify_pdf(saved, [ca]).outcome == "valid"
    assert "Accusé signé électroniquement par Claire MARTIN" in squash(pdf_text(saved))


def test_without_a_card_e_cps_the_accuse_is_unsigned_and_says_so(ca, tmp_path):
    receipt = make_receipt("le_goff")
    paper = _paper(tmp_path)
    _preview, error = paper.issue(receipt, _result(receipt), None)
    assert error == ""  # expected under e-CPS: no alarm
    saved = paper.receipt_path.read_bytes()
    assert not paper.signed and verify_pdf(saved, [ca]).outcome == "unsigned"
    text = squash(pdf_text(saved))
    assert "Accusé non signé électroniquement : le professionnel s'est connecté par e-CPS" in text
    assert "signé électroniquement par" not in text


def test_a_card_that_cannot_sign_gives_an_unsigned_accuse_and_a_warning(card, ca, tmp_path):
    receipt = make_receipt("le_goff", professional=card.professional)
    card.close()  # the card logged out (pulled, or the session ended): it cannot sign
    paper = _paper(tmp_path)
    _preview, error = paper.issue(receipt, _result(receipt), card)
    assert "sans signature électronique" in error
    saved = paper.receipt_path.read_bytes()
    assert verify_pdf(saved, [ca]).outcome == "unsigned"
    assert "la carte CPS n'a pas pu le signer" in squash(pdf_text(saved))


def test_another_professionals_card_does_not_sign_the_accuse(pki, tmp_path):
    credential = SoftwareCredential.unlock(
        pki.default.key_path, pki.default.cert_path, pki.default.pin
    )
    receipt = make_receipt("le_goff", professional=replace(PHARMACIST, id_nat="899700031216"))
    paper = _paper(tmp_path)
    paper.issue(receipt, _result(receipt), credential)
    text = squash(pdf_text(paper.receipt_path.read_bytes()))
    assert "n'est pas celle du professionnel qui l'a établi" in text


def _signature_certificate(ca, professional: Professional):
    """A « Certificat de Signature CPS »: the professional's subject, nonRepudiation."""
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    from proclient.core.cps_profile import professional_subject

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(professional_subject(professional))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return key, certificate


def test_a_card_with_a_signature_key_signs_with_cps_priv_sig(softhsm, accuse, tmp_path):
    """A real CPS holds CPS_PRIV_SIG beside CPS_PRIV_AUT: the accusé is signed with it."""
    from proclient.credentials.pdf_signing import SIGNATURE_CERT_LABEL, SIGNATURE_KEY_LABEL
    from proclient.credentials.softhsm import import_credential

    ca = create_ca("AC CPS de test")
    who = Professional("899700045679", "LEFEBVRE", "Anne", "10")
    auth = issue_professional(ca, who)
    store = provision_token(
        tmp_path / "cps", softhsm, "CPS 2 CLES", "1234", auth.key, auth.certificate
    )
    key, certificate = _signature_certificate(ca, who)
    import_credential(
        store,
        "CPS 2 CLES",
        "1234",
        key,
        certificate,
        key_label=SIGNATURE_KEY_LABEL,
        cert_label=SIGNATURE_CERT_LABEL,
        key_id=b"\x02sig",
    )

    credential = cps_token(store, token_label="CPS 2 CLES").unlock(bytearray(b"1234"))
    try:
        assert credential.certificate_pem == auth.certificate_pem  # logged in with CPS_PRIV_AUT
        with credential.document_signer() as signer:
            signed = sign_pdf(accuse, signer)
    finally:
        credential.close()
    verdict = verify_pdf(signed, [ca.certificate])
    assert verdict.outcome == "valid", verdict
    from pyhanko.pdf_utils.reader import PdfFileReader

    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    used = x509.load_der_x509_certificate(embedded.signer_cert.dump())
    assert used == certificate  # the signature certificate, not the authentication one
