"""The professional's national id (idNat_PS), as typed for an e-CPS sign-in.

idNat_PS is the RPPS number prefixed with 8 (12 digits: "8" + the 11-digit RPPS, whose last
digit is a Luhn key), or for a profession still under ADELI the ADELI number prefixed with 0
(10 digits; in Corsica the ADELI number starts with the department, 2A or 2B, as the service
accepts). A professional knows the RPPS number printed on their CPS card and their
order's documents, so the 11 digits alone are accepted and given their 8. Spaces are ignored.
The service checks the same shape again (it trusts no client).
"""

from __future__ import annotations

import re

from stdnum import luhn

from proclient.core.domain import DomainError
from proclient.core.i18n import _


def national_id(text: str) -> str:
    """The idNat_PS for ``text``, or DomainError NATIONAL_ID with a sentence saying what to type."""
    digits = "".join(text.split()).upper()
    if re.fullmatch(r"0?2[AB][0-9]{7}", digits):  # ADELI in Corsica: the department 2A or 2B
        return digits if digits[0] == "0" else "0" + digits
    if digits.isascii() and digits.isdigit():
        if len(digits) == 11:
            digits = "8" + digits
        if len(digits) == 12 and digits[0] == "8" and luhn.is_valid(digits[1:]):
            return digits
        if len(digits) == 10 and digits[0] == "0":
            return digits
        if len(digits) == 9:  # an ADELI number alone
            return "0" + digits
    raise DomainError(
        "NATIONAL_ID",
        _(
            "Numéro non reconnu : saisissez votre numéro RPPS (11 chiffres, sur votre carte "
            "CPS) ou votre identifiant national (8 suivi du RPPS, ou 0 suivi du numéro ADELI)."
        ),
    )
