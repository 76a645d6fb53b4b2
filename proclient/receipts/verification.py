"""Checking an accusé's PDF signature (``proclient verify FILE.pdf``) with pyHanko.

Trust is anchored on the certificates given (the CPS CA the settings name, or the demo CA):
nothing is fetched from the network. One outcome per file, in this order:

- unreadable: empty, too large to be an accusé, not a PDF, or a PDF pyHanko cannot parse;
- unsigned: a PDF without any signature;
- altered: a signature whose digest or cryptography does not hold (a byte changed), or an
  incremental update after the signature that changes what was signed (a field edited);
  updates that only add validation data (B-LT, B-LTA) are fine;
- unknown_key / revoked: intact, but the signer's certificate does not chain to the trusted
  CA, or is revoked;
- valid: intact, covering the document, by a trusted certificate: the verdict names the
  signer (the CPS certificate's subject) and the signing time.

The key usage accepted is nonRepudiation (a CPS signature certificate) or digitalSignature
(the demo card's single key, see docs/workstation.md).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from proclient.core.i18n import _
from proclient.core.proof.verdict import Verdict, worst
from proclient.receipts.content import STATEMENT_KEY

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # an accusé is about 50 kB; a larger file is not read


def _unreadable(sentence: str, **details) -> Verdict:
    return Verdict("unreadable", sentence, details)


def too_large() -> str:
    """The sentence for a file above :data:`MAX_BYTES`."""
    return _(
        "Le fichier est trop volumineux pour être un accusé (plus de {size} Mo) : "
        "il n'a pas été lu.",
        size=MAX_BYTES // (1024 * 1024),
    )


def verify_pdf(data: bytes, trust_roots: Sequence[x509.Certificate]) -> Verdict:
    """The verdict on ``data`` (a file's bytes), trusting ``trust_roots`` only. Blocks, and
    runs pyHanko's own event loop: call it from a thread without one (a worker thread)."""
    if not data:
        return _unreadable(_("Le fichier est vide : ce n'est pas un accusé."))
    if len(data) > MAX_BYTES:
        return _unreadable(too_large())
    if b"%PDF-" not in data[:1024]:
        return _unreadable(_("Ce fichier n'est pas un PDF : ce n'est pas un accusé."))
    from proclient.credentials.pdf_signing import quiet_pyhanko

    with quiet_pyhanko():
        import pyhanko.sign  # noqa: F401  (the reader imports it lazily, warning then)
        from pyhanko.pdf_utils.reader import PdfFileReader
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko's parse errors are many kinds
        log.info("PDF not parsed (%s)", type(error).__name__)
        return _unreadable(_("Ce PDF est abîmé ou illisible : il ne peut pas être vérifié."))
    details = {}
    statement = _statement(reader)
    if statement:
        details["statement"] = statement
    if not signatures:
        return Verdict(
            "unsigned",
            _(
                "Ce PDF ne porte aucune signature électronique : rien ne dit qui l'a fait ni "
                "qu'il n'a pas été modifié."
            ),
            details,
        )
    verdicts = [_check(signature, trust_roots, details) for signature in signatures]
    return worst(verdicts)  # type: ignore[return-value]  (never empty here)


def _statement(reader) -> str | None:
    try:
        info = reader.trailer_view.get("/Info")
        value = info.get("/" + STATEMENT_KEY) if info is not None else None
    except Exception:  # a broken /Info: no statement to read
        return None
    return str(value) if value is not None else None


def _altered(details: dict) -> Verdict:
    return Verdict(
        "altered",
        _(
            "Accusé modifié après sa signature : son contenu n'est plus celui que le "
            "professionnel a signé."
        ),
        details,
    )


def _check(signature, trust_roots: Sequence[x509.Certificate], details: dict) -> Verdict:
    from proclient.credentials.pdf_signing import asn1_certificate, quiet_pyhanko

    with quiet_pyhanko():
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.errors import SignatureValidationError
        from pyhanko.sign.validation.settings import KeyUsageConstraints
        from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(
        trust_roots=[asn1_certificate(certificate) for certificate in trust_roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    usage = KeyUsageConstraints(
        key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False
    )
    try:
        status = validate_pdf_signature(signature, context, key_usage_settings=usage)
    except SignatureValidationError:
        return _altered(dict(details))
    except (ValueError, KeyError, TypeError, IndexError, PdfError) as error:
        # A signature too damaged to be read is an altered one. Anything else (a bug, or
        # this called from a running event loop: pyHanko runs its own) is not a verdict.
        log.info("signature not validated (%s)", type(error).__name__)
        return _altered(dict(details))
    details = {**details, **_who(status)}
    if not (status.intact and status.valid):
        return _altered(details)
    if not _covers_document(status) or not _same_metadata(signature):
        return _altered(details)
    if status.revoked:
        return Verdict(
            "revoked",
            _(
                "Accusé signé par un certificat révoqué ({signer}) : la signature ne vaut plus.",
                signer=details["signer"],
            ),
            details,
        )
    if not status.trusted:
        return Verdict(
            "unknown_key",
            _(
                "Accusé signé par un certificat inconnu ({signer}) : il n'est pas émis par "
                "l'autorité des cartes CPS reconnue ici.",
                signer=details["signer"],
            ),
            details,
        )
    return Verdict(
        "valid",
        _(
            "Accusé intact, signé par {signer} le {when} (heure de Paris).",
            signer=details["signer"],
            when=details.get("when", "?"),
        ),
        details,
    )


def _covers_document(status) -> bool:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return False
    return status.docmdp_ok is not False and status.modification_level in (
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
    )


def _same_metadata(signature) -> bool:
    """The document information (title, the service's statement) is the one signed.
    pyHanko's change analysis lets a later update rewrite /Info; an accusé's must not change:
    it carries the service's signed statement, which another accusé's could replace."""
    reader = signature.reader
    try:
        signed = reader.get_historical_resolver(signature.signed_revision)
        return _info(signed, signed.trailer_view) == _info(reader, reader.trailer_view)
    except Exception:  # an /Info that cannot be read back: not the one signed
        return False


def _info(resolver, trailer) -> dict | None:
    """The /Info entries as text, each object read as ``resolver`` (a revision) has it."""
    from pyhanko.pdf_utils import generic

    def read(value):
        if isinstance(value, generic.IndirectObject):
            return resolver.get_object(value.reference)
        return value

    if "/Info" not in trailer:
        return None
    info = read(trailer.raw_get("/Info"))
    return {str(key): repr(read(info.raw_get(key))) for key in info}


def _who(status) -> dict:
    """The signer as the accusé's reader knows them: name, profession and national id from a
    CPS certificate; the certificate's subject otherwise; and the signing time."""
    from proclient.core.clock import paris_time
    from proclient.core.cps_profile import professional_from_certificate

    out: dict = {}
    cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    out["subject"] = cert.subject.rfc4514_string()
    try:
        who = professional_from_certificate(cert)
        out["signer"] = f"{who.display_name} ({who.profession}, {who.id_nat})"
        out["id_nat"] = who.id_nat
    except ValueError:
        out["signer"] = out["subject"]
    when = status.signer_reported_dt
    if isinstance(when, datetime):
        out["signed_at"] = when.isoformat()
        out["when"] = paris_time(when).strftime("%d/%m/%Y %H:%M")
    return out
