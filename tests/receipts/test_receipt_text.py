"""The terminal preview: same content as the PDF, lines of at most 64 characters."""

from __future__ import annotations

from dataclasses import replace

import pytest
from receipt_samples import PATIENTS, PHARMACIST, SECRETS, make_receipt, squash

from proclient.domain import format_nir
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
    assert "00/00/1955 (date lunaire, telle que lue)" in text
    assert format_nir("155009935000780") in text and "INS-NIR TEST" in text
    assert "Identité saisie par le professionnel" in text
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
