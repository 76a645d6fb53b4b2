"""The accusé signed by the professional: PAdES baseline B-B (ETSI EN 319 142-1) with pyHanko.

The signature is an incremental update of the rendered PDF: an invisible signature field
whose CMS signature (SHA-256, the signing certificate in a signing-certificate-v2 attribute,
the signing time in the signature dictionary) covers the whole file. A PDF reader shows who
signed it (the certificate's subject) and that the file was not changed since. B-B means no
time-stamp: the signing time is the workstation's word (B-T needs a time-stamping authority,
see docs/workstation.md).

The signer is a pyHanko ``Signer`` the credential made (credentials/pdf_signing.py): this
module knows the PDF, the credentials know the key.
"""

from __future__ import annotations

import io

SIGNATURE_FIELD = "SignatureProfessionnel"
REASON = "Accusé remis au patient par le professionnel de santé"


def sign_pdf(pdf: bytes, signer) -> bytes:
    """``pdf`` signed PAdES B-B by ``signer`` (a pyHanko Signer). Blocks (the card signs):
    run it in a thread. Raises whatever the signer raises when the card cannot sign."""
    from proclient.credentials.pdf_signing import quiet_pyhanko

    with quiet_pyhanko():
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko.sign.fields import SigSeedSubFilter

    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=REASON,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.PdfSigner(meta, signer).sign_pdf(writer)
    return out.getvalue()
