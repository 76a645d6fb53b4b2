"""The terminal preview: same content as the PDF, lines of at most 64 characters."""

from __future__ import annotations

from dataclasses import replace

import pytest
from receipt_samples import (
    PATIENTS,
    PHARMACIST,
    SECRETS,
    legacy_receipt,
    make_receipt,
    squash,
)

from proclient.core.domain import format_nir
from proclient.receipts.content import Document, Row, Section, receipt_content
from proclient.receipts.text import WIDTH, receipt_text, render_text

KEYS = sorted(PATIENTS)


@pytest.mark.parametrize("key", KEYS)
def test_lines_fit_in_64_columns(key):
    lines = receipt_text(make_receipt(key)).splitlines()
    assert WIDTH == 64
    assert max(len(line) for line in lines) <= 64
    assert len(lines) > 30


def test_long_values_and_labels_are_wrapped_not_cut():
    structure = "Pharmacie " + "Saint-Jean-de-Luz " * 6 + "Anticonstitutionnellement" * 4
    text = receipt_text(
        make_receipt("le_goff", professional=replace(PHARMACIST, structure=structure))
    )
    assert max(len(line) for line in text.splitlines()) <= 64
    assert "Saint-Jean-de-Luz Saint-Jean-de-Luz" in squash(text)
    assert "Anticonstitutionnellement" in text


@pytest.mark.parametrize("key", KEYS)
def test_every_row_of_the_content_model_is_in_the_text(key):
    text = squash(receipt_text(make_receipt(key)))
    for section in receipt_content(make_receipt(key)).sections:
        assert section.title.upper() in text
        for row in section.rows:
            assert f"{row.label} {row.value}" in text, row
        for note in section.notes:
            assert note in text


def test_patient_facts():
    text = squash(receipt_text(make_receipt("ben_said")))
    assert text.count("Accusé de réactivation du DMP") == 1
    assert "00/00/1955 (date lunaire, telle que donnée par l'INSi)" in text
    assert format_nir("155009935000780") in text and "INS-NIR TEST" in text
    assert "Nom de naissance BEN SAID" in text and "Prénom(s) KARIM" in text
    assert "Identité traits de l'INSi" in text
    assert "Accès d'urgence par le médecin du SAMU (centre 15) refusé" in text
    assert "Accès en bris de glace (urgence vitale) autorisé" in text
    assert "*** DÉMONSTRATION — sans valeur ***" in text


def test_no_banner_when_not_demo_and_no_secrets_ever():
    text = receipt_text(make_receipt("casanova", demo=False))
    assert "DÉMONSTRATION" not in text
    assert SECRETS.login not in text and SECRETS.initial_password not in text
    assert "m***@exemple.fr" in text and "marie-ange.casanova@" not in text


def test_render_text_handles_any_document():
    doc = Document(
        title="T",
        meta_title="T",
        sections=(Section("Bloc", (Row("Un libellé", "une valeur"),), ("Une phrase.",)),),
        footer=("Fin.",),
    )
    assert render_text(doc).splitlines()[3:] == [
        "",
        "BLOC",
        "----",
        "  Un libellé                une valeur",
        "  - Une phrase.",
        "",
        "Fin.",
    ]


QUALIFIED_A4 = """\
PATIENT
-------
  Nom de naissance          LE GOFF
  Prénom(s)                 GERARD
  Date de naissance         14/03/1952
  Sexe                      Masculin
  INS (INS-NIR TEST)        1 52 03 35 238 045 87
  OID de l'INS              1.2.250.1.213.1.4.10
  Identité                  traits de l'INSi
  Statut de l'identité      qualifiée
  Pièce d'identité vue      Passeport
"""

RETRIEVED_ROLL = """\
PATIENT
-------
Nom de naissance : BEN SAID
Prénom(s) : KARIM
Date de naissance : 00/00/1955 (date
  lunaire, telle que donnée par l'INSi)
Sexe : Masculin
INS (INS-NIR TEST) : 1 55 00 99 350 007 80
OID de l'INS : 1.2.250.1.213.1.4.10
Identité : traits de l'INSi
Statut de l'identité : récupérée
Pièce d'identité : Aucune pièce d'identité
  vue
"""


def _patient_block(text: str) -> str:
    start = text.index("PATIENT\n")
    return text[start : text.index("\n\n", start) + 1]


def test_qualified_identity_patient_block_a4():
    assert _patient_block(receipt_text(make_receipt("le_goff"), "a4")) == QUALIFIED_A4


def test_retrieved_identity_patient_block_80mm():
    assert _patient_block(receipt_text(make_receipt("ben_said"), "80mm")) == RETRIEVED_ROLL


@pytest.mark.parametrize("page", ["a4", "80mm"])
def test_qualified_and_retrieved_in_both_shapes(page):
    qualified = squash(receipt_text(make_receipt("casanova"), page)).replace(" :", "")
    assert "Identité traits de l'INSi" in qualified
    assert "Statut de l'identité qualifiée" in qualified
    assert "Pièce d'identité vue Carte nationale d'identité" in qualified
    retrieved = squash(receipt_text(make_receipt("ben_said"), page)).replace(" :", "")
    assert "Statut de l'identité récupérée" in retrieved
    assert "Pièce d'identité Aucune pièce d'identité vue" in retrieved


@pytest.mark.parametrize("page", ["a4", "80mm"])
def test_minor_with_the_family_book_and_nia(page):
    minor = squash(receipt_text(make_receipt("durand"), page)).replace(" :", "")
    assert "Pièce d'identité vue Livret de famille, avec la pièce d'identité du parent" in minor
    assert "Prénom(s) LEA" in minor
    nia = squash(receipt_text(make_receipt("okafor"), page)).replace(" :", "")
    assert "INS (INS-NIA) 1 90 07 99 336 004 64" in nia


@pytest.mark.parametrize("page", ["a4", "80mm"])
def test_no_status_lines_without_an_identity_check(page):
    text = squash(receipt_text(legacy_receipt("le_goff"), page)).replace(" :", "")
    assert "Identité lue sur la carte Vitale" in text and "Gérard" in text
    assert "Statut" not in text and "Pièce d'identité" not in text
