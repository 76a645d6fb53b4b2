"""How a CPS-like authentication certificate names its professional, both ways.

CPS authentication certificates name the professional this way (ANS test fixtures): CN =
idNat_PS, SN = last name, GN = given name, title = profession label, O = structure, and a
private extension 1.2.250.1.71.1.2.7 carrying the G15 profession code as a DER UTF8String.

Shared by the client (which shows who a card or key file belongs to) and the service (which
checks who signed in); core: cryptography and the domain only.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from proclient.core.domain import PROFESSIONS, Professional

OID_PROFESSION_CODE = x509.ObjectIdentifier("1.2.250.1.71.1.2.7")

_NO_STRUCTURE = "-"  # O must not be empty; a professional without a structure gets this


# --- DER UTF8String, the profession code extension's value -----------------------------------


def der_utf8string(text: str) -> bytes:
    """``text`` as a DER UTF8String."""
    data = text.encode("utf-8")
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(length)]) + length + data


def parse_der_utf8string(der: bytes) -> str:
    """The text of a DER UTF8String; ValueError when ``der`` is not one."""
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("not a DER UTF8String")
    length, offset = der[1], 2
    if length & 0x80:
        size = length & 0x7F
        length, offset = int.from_bytes(der[2 : 2 + size], "big"), 2 + size
    if offset + length != len(der):
        raise ValueError("bad DER length")
    return der[offset:].decode("utf-8")


# --- Professional -> certificate parts ---------------------------------------------------------


def professional_subject(professional: Professional) -> x509.Name:
    """The subject a CPS authentication certificate gives ``professional``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, professional.structure or _NO_STRUCTURE),
            x509.NameAttribute(
                NameOID.TITLE, PROFESSIONS.get(professional.profession_code, "Professionnel")
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, professional.id_nat),
            x509.NameAttribute(NameOID.SURNAME, professional.last_name),
            x509.NameAttribute(NameOID.GIVEN_NAME, professional.first_name),
        ]
    )


def profession_code_extension(profession_code: str) -> x509.UnrecognizedExtension:
    """The private extension carrying the G15 profession code (not critical)."""
    return x509.UnrecognizedExtension(OID_PROFESSION_CODE, der_utf8string(profession_code))


# --- certificate -> Professional -------------------------------------------------------------


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def professional_from_certificate(cert: x509.Certificate) -> Professional:
    """The professional a CPS-like certificate names; ValueError when a part is missing."""
    subject = cert.subject
    id_nat = _attribute(subject, NameOID.COMMON_NAME)
    last_name = _attribute(subject, NameOID.SURNAME)
    first_name = _attribute(subject, NameOID.GIVEN_NAME)
    try:
        ext = cert.extensions.get_extension_for_oid(OID_PROFESSION_CODE).value
    except x509.ExtensionNotFound:
        raise ValueError("no profession code extension") from None
    if not isinstance(ext, x509.UnrecognizedExtension):
        raise ValueError("unexpected profession code extension")
    profession_code = parse_der_utf8string(ext.value)
    if not (id_nat and last_name and profession_code):
        raise ValueError("incomplete professional subject")
    structure = _attribute(subject, NameOID.ORGANIZATION_NAME)
    return Professional(
        id_nat=id_nat,
        last_name=last_name,
        first_name=first_name,
        profession_code=profession_code,
        structure="" if structure == _NO_STRUCTURE else structure,
    )
