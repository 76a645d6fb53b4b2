"""The accusé's 2D code read back: a DMP created on the service (both backends), its accusé
rendered (A4 and 80 mm), the PDF rasterised with pypdfium2 and the codes decoded with
zxing-cpp: the signed one equals the service's statement, verifies, and holds no full NIR,
no name and no password. The offline slip carries none."""

from __future__ import annotations

import io
import uuid
import zlib
from datetime import UTC, datetime

import base45
import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from proclient.core.domain import Consent, WebAccess
from proclient.core.proof.statement import PREFIX, verify_code
from proclient.core.records import CreationReceipt, RecordedSlip
from proclient.receipts.pdf import render_receipt, render_slip

from .helpers import LE_GOFF, creation, insi_ready

DPI = 200  # a phone or a counter scanner sees more; the code must read at modest resolution


def codes_in(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=DPI / 72).to_pil()
        found += [r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "QRCode"]
    return found


@pytest.mark.parametrize("page", ["a4", "80mm"])
async def test_the_code_read_back_from_the_pdf_is_the_services_statement(
    connected, server, pki, page
):
    await insi_ready(server.storage, connected, LE_GOFF)
    request = creation(web=WebAccess(email="gerard.legoff@exemple.fr"))
    result = await connected.submit(request, str(uuid.uuid4()))
    receipt = CreationReceipt(
        request, pki.default.professional, result.dmp_id, result.at, statement=result.statement
    )
    pdf = render_receipt(receipt, page)

    statements = [code for code in codes_in(pdf) if code.startswith(PREFIX)]
    assert statements == [result.statement]
    assert PdfReader(io.BytesIO(pdf)).metadata["/ProclientStatement"] == result.statement
    verdict = verify_code(statements[0], server.settings.document_signer.all_certificates())
    assert verdict.outcome == "valid" and verdict.details["reference"] == result.dmp_id

    decoded = zlib.decompress(base45.b45decode(statements[0][len(PREFIX) :]))
    password = result.web.initial_password
    for secret in (LE_GOFF.ins.value, LE_GOFF.last_name, LE_GOFF.first_name, password):
        assert secret.encode() not in decoded and secret not in statements[0]
    assert LE_GOFF.ins.value not in str(verdict.details)


def test_an_accuse_without_a_statement_has_no_signed_code_nor_metadata(pki):
    request = creation()
    receipt = CreationReceipt(request, pki.default.professional, "DMP-X", datetime.now(UTC))
    pdf = render_receipt(receipt, "a4")
    assert not [code for code in codes_in(pdf) if code.startswith(PREFIX)]
    assert "/ProclientStatement" not in PdfReader(io.BytesIO(pdf)).metadata


def test_the_offline_slip_carries_no_code(pki):
    assert "statement" not in RecordedSlip.__dataclass_fields__
    slip = RecordedSlip(
        "LE GOFF Gérard", pki.default.professional, datetime.now(UTC), Consent(True)
    )
    for page in ("a4", "80mm"):
        pdf = render_slip(slip, page)
        assert not [c for c in codes_in(pdf) if c.startswith(PREFIX)]
        assert "/ProclientStatement" not in PdfReader(io.BytesIO(pdf)).metadata
