"""The accusé de création and the secrets sheet as PDFs: content, fonts, metadata, bytes."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from receipt_samples import (
    CHECKS,
    DMP_IDS,
    PATIENTS,
    PHARMACIST,
    SECRETS,
    WEB,
    legacy_receipt,
    make_receipt,
    pdf_text,
    squash,
)
from reportlab.lib.units import mm

from proclient.core.domain import format_nir
from proclient.receipts.content import receipt_content
from proclient.receipts.pdf import render_receipt, render_secrets

PAGES = ("a4", "80mm")
KEYS = sorted(PATIENTS)
_cache: dict[tuple[str, str], bytes] = {}


def rendered(key: str, page: str) -> bytes:
    """One render per demo patient and page format for the whole module (keeps it fast)."""
    if (key, page) not in _cache:
        _cache[key, page] = render_receipt(make_receipt(key), page)
    return _cache[key, page]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("key", KEYS)
def test_identity_ins_and_oid_are_printed(key, page):
    patient = PATIENTS[key]
    text = pdf_text(rendered(key, page))
    assert patient.last_name in text
    assert patient.first_name in text
    assert patient.birth_date.display in text
    assert format_nir(patient.ins.value) in text
    assert f"INS ({patient.ins.label})" in text
    assert patient.ins.oid in text
    assert patient.sex is not None and patient.sex.label in text
    assert DMP_IDS[key] in text
    assert "MARTIN" in text and "Pharmacien" in text and "899700024450" in text
    assert "14/03/2021 à 10:30 (heure de Paris)" in text
    assert "Consentement à la" in text and "recueilli" in text


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("key", KEYS)
def test_every_row_of_the_content_model_reaches_the_pdf(key, page):
    text = pdf_text(rendered(key, page))
    for section in receipt_content(make_receipt(key)).sections:
        assert section.title in text
        for row in section.rows:
            assert squash(row.value) in text, row
        for note in section.notes:
            assert squash(note) in text


@pytest.mark.parametrize("page", PAGES)
def test_accents_ligatures_and_eszett_print(page):
    texts = " ".join(pdf_text(rendered(key, page)) for key in KEYS)
    for word in ("Zoé", "Accusé", "Représentant légal", "CASANOVA-ORSINI", "MARIE-ANGE"):
        assert word in texts
    assert "Pharmacie du Cœur de Straße" in texts
    assert "DÉMONSTRATION — sans valeur" in texts
    assert "Accès d'urgence" in texts


@pytest.mark.parametrize("page", PAGES)
def test_emergency_choices_authorised_and_refused(page):
    samu = "Accès d'urgence par le médecin du SAMU (centre 15)"
    glass = "Accès en bris de glace (urgence vitale)"
    le_goff = pdf_text(rendered("le_goff", page))
    assert f"{samu} autorisé" in le_goff.replace(" :", "")
    assert f"{glass} autorisé" in le_goff.replace(" :", "")
    assert "refusé" not in le_goff
    casanova = pdf_text(rendered("casanova", page)).replace(" :", "")
    assert f"{samu} refusé" in casanova and f"{glass} refusé" in casanova
    assert "autorisé" not in casanova
    ben_said = pdf_text(rendered("ben_said", page)).replace(" :", "")
    assert f"{samu} refusé" in ben_said and f"{glass} autorisé" in ben_said


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("key", KEYS)
def test_the_identity_is_insi_traits_never_the_card_spelling(key, page):
    """Card read or typed, the patient on the accusé is INSi's: birth name and given names in
    INSi's form (upper case, no accents), "traits de l'INSi"."""
    text = pdf_text(rendered(key, page)).replace(" :", "")
    held = CHECKS[key].held
    assert "Identité traits de l'INSi" in text
    assert f"Nom de naissance {PATIENTS[key].last_name}" in text
    assert "lue sur la carte Vitale" not in text and "saisie par le professionnel" not in text
    if held.first_name != held.first_name.upper():
        assert held.first_name not in text  # Gérard, Léa, Marie-Ange, Karim, Chidi


@pytest.mark.parametrize("page", PAGES)
def test_an_older_request_without_identity_check_says_where_the_identity_came_from(page):
    """A request made before identity vigilance (no check): no status nor document line, and
    the identity is the card's or the typed one, as it was."""
    read = pdf_text(render_receipt(legacy_receipt("le_goff"), page))
    assert "lue sur la carte Vitale" in read and "Gérard" in read
    assert "Statut de l'identité" not in read and "Pièce d'identité" not in read
    assert "traits de l'INSi" not in read
    typed = pdf_text(render_receipt(legacy_receipt("ben_said"), page))
    assert "saisie par le professionnel" in typed and "BEN SAÏD" in typed
    assert "00/00/1955 (date lunaire, telle que lue)" in typed


@pytest.mark.parametrize("page", PAGES)
def test_status_and_document_seen_qualifiee_and_recuperee(page):
    qualified = pdf_text(rendered("le_goff", page)).replace(" :", "")
    assert "Statut de l'identité qualifiée" in qualified
    assert "Pièce d'identité vue Passeport" in qualified
    assert "récupérée" not in qualified and "Aucune pièce" not in qualified
    retrieved = pdf_text(rendered("ben_said", page)).replace(" :", "")
    assert "Statut de l'identité récupérée" in retrieved
    assert "Aucune pièce d'identité vue" in retrieved
    assert "qualifiée" not in retrieved and "Passeport" not in retrieved


@pytest.mark.parametrize("page", PAGES)
def test_a_minor_identified_by_the_family_book(page):
    text = pdf_text(rendered("durand", page)).replace(" :", "")
    assert "Statut de l'identité qualifiée" in text
    assert "Pièce d'identité vue Livret de famille, avec la pièce d'identité du parent" in text


@pytest.mark.parametrize("page", PAGES)
def test_an_nia_patient_shows_ins_nia(page):
    text = pdf_text(rendered("okafor", page)).replace(" :", "")
    assert f"INS (INS-NIA) {format_nir('190079933600464')}" in text
    assert "1.2.250.1.213.1.4.9" in text and "INS-NIR" not in text
    assert "Pièce d'identité vue Titre de séjour permanent" in text


@pytest.mark.parametrize("page", PAGES)
def test_the_document_number_is_never_asked_nor_printed(page):
    """The accusé names the kind of document seen, never a number: the check holds none."""
    for key in KEYS:
        check = CHECKS[key]
        assert check.document is not None
        assert check.document.label in pdf_text(rendered(key, page))


@pytest.mark.parametrize("page", PAGES)
def test_reactivation_title_and_lunar_birth_date(page):
    text = pdf_text(rendered("ben_said", page))
    assert "Accusé de réactivation du DMP" in text
    assert "Accusé de création" not in text
    assert "00/00/1955 (date lunaire, telle que donnée par l'INSi)" in text
    assert "Accusé de création du DMP" in pdf_text(rendered("le_goff", page))


@pytest.mark.parametrize("page", PAGES)
def test_minor_shows_legal_representative(page):
    text = pdf_text(rendered("durand", page))
    assert "Représentant légal" in text and "DURAND Sophie" in text and "Mère" in text
    assert "recueilli auprès du représentant légal" in text
    assert "Représentant légal" not in pdf_text(rendered("le_goff", page))


@pytest.mark.parametrize("page", PAGES)
def test_online_access_shows_masked_channels_only(page):
    text = pdf_text(rendered("casanova", page))
    assert "Accès en ligne demandé" in text.replace(" :", "")
    assert "m***@exemple.fr" in text and "+33 6 ** ** ** 78" in text
    assert WEB.email not in text and "612345678" not in text
    assert SECRETS.login not in text and SECRETS.initial_password not in text
    assert "Accès en ligne non demandé" in pdf_text(rendered("le_goff", page)).replace(" :", "")


@pytest.mark.parametrize("page", PAGES)
def test_next_steps_are_explained(page):
    text = pdf_text(rendered("le_goff", page))
    for words in ("Mon espace santé", "masquer un document", "vous opposer", "fermer votre DMP"):
        assert words in text


def test_demo_banner_only_on_demo_receipts():
    real = render_receipt(make_receipt("le_goff", demo=False))
    assert "DÉMONSTRATION" not in pdf_text(real)
    assert "DÉMONSTRATION — sans valeur" in pdf_text(rendered("le_goff", "a4"))


def test_paris_time_in_summer_and_naive_datetimes_as_utc():
    summer = make_receipt("le_goff", at=datetime(2021, 7, 1, 8, 0, tzinfo=UTC))
    assert "01/07/2021 à 10:00 (heure de Paris)" in pdf_text(render_receipt(summer, "80mm"))
    naive = make_receipt("le_goff", at=datetime(2021, 7, 1, 8, 0))
    assert "01/07/2021 à 10:00" in pdf_text(render_receipt(naive, "80mm"))


def test_markup_characters_in_values_are_escaped():
    pro = replace(PHARMACIST, structure='Pharmacie A&B <Centre> "Gare"')
    text = pdf_text(render_receipt(make_receipt("le_goff", professional=pro), "80mm"))
    assert 'Pharmacie A&B <Centre> "Gare"' in text


@pytest.mark.parametrize("page", PAGES)
def test_page_geometry(page):
    reader = PdfReader(io.BytesIO(rendered("durand", page)))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    if page == "a4":
        assert (round(width), round(height)) == (595, 842)
    else:
        assert abs(width - 80 * mm) < 0.01
        assert 100 * mm < height < 297 * mm  # fitted to the content, not a full page


def test_worst_case_a4_receipt_fits_on_one_page():
    request = replace(
        make_receipt("durand").request,
        web_access=WEB,
    )
    pdf = render_receipt(make_receipt("durand", request=request))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_unknown_page_format_is_refused():
    with pytest.raises(ValueError):
        render_receipt(make_receipt("le_goff"), "letter")


@pytest.mark.parametrize("page", PAGES)
def test_same_input_gives_byte_identical_pdfs(page, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    receipt = make_receipt("casanova")
    first, first_secrets = render_receipt(receipt, page), render_secrets(SECRETS, page)
    # A year later by the wall clock: the bytes must not change (no clock in the PDF).
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert render_receipt(receipt, page) == first
    assert render_secrets(SECRETS, page) == first_secrets
    later = make_receipt("casanova", at=datetime(2021, 3, 14, 9, 31, tzinfo=UTC))
    assert render_receipt(later, page) != render_receipt(receipt, page)


def _fonts(pdf: bytes) -> list:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        fonts += [ref.get_object() for ref in resources["/Font"].get_object().values()]
    return fonts


@pytest.mark.parametrize("page", PAGES)
def test_every_font_is_embedded_truetype(page):
    for pdf in (rendered("ben_said", page), render_secrets(SECRETS, page)):
        fonts = _fonts(pdf)
        assert fonts
        for font in fonts:
            descriptor = font.get("/FontDescriptor")
            assert descriptor is not None, font.get("/BaseFont")  # no unembedded base-14
            assert "/FontFile2" in descriptor.get_object(), font.get("/BaseFont")


@pytest.mark.parametrize("key", KEYS)
def test_metadata_names_no_patient(key):
    patient = PATIENTS[key]
    for page in PAGES:
        meta = PdfReader(io.BytesIO(rendered(key, page))).metadata
        values = " ".join(str(v) for v in meta.values()).casefold()
        assert meta.title == receipt_content(make_receipt(key)).title
        for secret in (patient.last_name, patient.first_name, patient.ins.value):
            assert secret.casefold() not in values
        assert patient.ins.value[:13] not in values.replace(" ", "")


@pytest.mark.parametrize("page", PAGES)
def test_secrets_sheet_content(page):
    pdf = render_secrets(SECRETS, page)
    text = pdf_text(pdf)
    assert SECRETS.login in text and SECRETS.initial_password in text
    assert "m***@exemple.fr" in text and "+33 6 ** ** ** 78" in text
    assert (
        "Ce document est le seul exemplaire de votre mot de passe provisoire : il n'est "
        "enregistré nulle part. Conservez-le à l'abri."
    ) in text
    meta = " ".join(str(v) for v in PdfReader(io.BytesIO(pdf)).metadata.values())
    for secret in ("CASANOVA", SECRETS.login, SECRETS.initial_password):
        assert secret not in meta
    assert "DÉMONSTRATION" not in text
    assert "DÉMONSTRATION — sans valeur" in pdf_text(render_secrets(SECRETS, page, demo=True))


def test_long_login_shrinks_to_one_line_on_the_roll():
    login = "marie-ange.casanova-orsini.2021-0001"
    text = pdf_text(render_secrets(replace(SECRETS, login=login), "80mm"))
    assert login in text  # not wrapped, not cut
