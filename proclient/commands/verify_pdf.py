"""`proclient verify FILE.pdf`: the accusé's PAdES signature checked (receipts/verification.py).

Trust: the CPS CA the settings name (``[verify] cps_ca``), or the demo's CA with ``--demo``.
One sentence on standard output, and the exit code of the verdict (core/proof/verdict.py):
0 valid, 20 altered, 21 unknown or revoked key, 22 unreadable, 23 unsigned.

``--code`` and ``--journal`` share the ``verify`` sub-command (commands/verify.py): this
module keeps the PDF's part in :func:`pdf_verdict`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from proclient.core.i18n import _


class TrustMissing(Exception):
    """No CA to trust: the sentence to print (exit: not configured)."""


def trust_roots(settings, demo: bool) -> list:
    """The certificates a signature must chain to: the demo CA (``--demo``), else the CPS
    CA(s) of ``[verify] cps_ca``. Raises TrustMissing with a sentence."""
    from cryptography import x509

    if demo:
        path = settings.paths.demo_dir / "demo-pki" / "ca.pem"
        missing = _(
            "L'autorité de la démonstration est introuvable ({path}) : lancez une fois "
            "« proclient demo ».",
            path=path,
        )
    elif settings.verify.cps_ca:
        path = Path(settings.verify.cps_ca).expanduser()
        missing = _(
            "Le certificat de l'autorité des cartes CPS ({path}) est illisible : vérifiez le "
            "réglage verify.cps_ca.",
            path=path,
        )
    else:
        raise TrustMissing(
            _(
                "Aucune autorité de confiance pour vérifier la signature : réglez "
                "[verify] cps_ca (le certificat de l'autorité des cartes CPS), ou --demo."
            )
        )
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        raise TrustMissing(missing) from None


def read_file(path: Path) -> bytes | str:
    """The file's bytes, or the sentence saying why it is not read (missing, a folder, too
    large to be an accusé: its size is looked at first, a huge file is never read)."""
    from proclient.receipts.verification import MAX_BYTES, too_large

    try:
        if path.stat().st_size > MAX_BYTES:
            return too_large()
        return path.read_bytes()
    except OSError:
        return _("Le fichier {path} ne peut pas être lu.", path=path)


def pdf_verdict(path: Path, settings, demo: bool = False, check_statement: Callable | None = None):
    """The verdict on ``path``'s signature (commands/verify.py prints it). Raises
    TrustMissing, with its sentence, when no CA is set to trust.

    ``check_statement(text) -> Verdict``: the service's signed statement read back from the
    PDF's /ProclientStatement entry (core/proof/statement.py's ``verify_code`` with the
    service's certificates), checked too when the PDF carries one; the worse verdict is the
    one said."""
    from proclient.core.proof.verdict import Verdict, worst
    from proclient.receipts.verification import verify_pdf

    # pyHanko logs a failed path building with its traceback: the verdict says it in a line.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    roots = trust_roots(settings, demo)
    data = read_file(Path(path))
    if isinstance(data, str):
        verdict = Verdict("unreadable", data)
    else:
        verdict = verify_pdf(data, roots)
        statement = verdict.details.get("statement")
        if statement and check_statement is not None and verdict.outcome != "unreadable":
            verdict = worst([verdict, check_statement(statement)])
    return verdict
