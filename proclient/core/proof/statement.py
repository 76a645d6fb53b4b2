"""The service's signed statement: what an accusé asserts, in a 2D code anyone can check.

**Format**, as the EU digital COVID certificates (DCC): a CBOR map (integer keys, below) →
COSE_Sign1 (RFC 9052; ES256, the key id in the protected header) → zlib → base45 (RFC 9285)
→ the prefix ``DMP1:``. Base45's alphabet (0-9, A-Z, space and ``$%*+-./:``) is exactly the
QR code's alphanumeric mode, so the code packs 5.5 bits a character, and every character of
it is typed without a dead key on a French (AZERTY) keyboard: a counter's 2D scanner,
which types what it reads, gives it back as it was (tests/proof/test_azerty_wedge.py).

**Why CBOR/COSE and not 2D-Doc.** The ANTS 2D-Doc is the French official code, but its
specification ties the signing certificate to the ANTS's trust list (certification
authorities registered with the ANTS, a per-document-type perimeter the ANTS assigns): a
proclient service could not issue a 2D-Doc that a 2D-Doc reader accepts, and no maintained
Python implementation exists. COSE_Sign1 is an IETF standard with a proven field deployment
(the DCC in billions of checks), verifiable with any CBOR library and the service's
certificate, and its signature is the raw 64-byte ECDSA P-256 signature the service's key
makes anyway.

**Libraries.** ``cbor2`` (maintained, C-accelerated) for CBOR and ``base45`` (the reference
RFC 9285 implementation); COSE_Sign1 is 20 lines over them with ``cryptography`` (its
Sig_structure is one CBOR array): ``pycose`` would add a dependency tree (its own key
objects, ``attrs``, ``ecdsa``) for one algorithm we use.

**Fields** (:class:`Statement`; key numbers in :data:`KEYS`): never a full NIR, a name or the
password. The INS is masked to its first digit (the sex) and its last four (the order
number's end and the NIR key): ``2**********8128``, enough to match a paper against the
patient's card, not to recover the NIR; the patient is named by the initials of the first
given name and the birth name and the birth year.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import base45
import cbor2
from cryptography import x509

from proclient.core.i18n import _
from proclient.core.proof.ecdsa import check_signature, key_id
from proclient.core.proof.verdict import Verdict

PREFIX = "DMP1:"
VERSION = 1
MAX_CODE_LENGTH = 2000  # a QR code of version 40 holds 4296 alphanumeric characters
COSE_SIGN1_TAG = 18
COSE_ALG, COSE_KID, ES256 = 1, 4, -7

Kind = Literal["creation", "reactivation", "password_reissue"]
ConsentBy = Literal["patient", "representative"]
_KINDS: dict[str, int] = {"creation": 1, "reactivation": 2, "password_reissue": 3}
_CONSENT_BY: dict[str, int] = {"patient": 1, "representative": 2}

# Field → CBOR map key. Small integers: one byte each in CBOR, and a smaller code.
KEYS: dict[str, int] = {
    "version": 1,
    "kind": 2,
    "reference": 3,
    "at": 4,  # seconds since 1970, UTC
    "ins_masked": 5,
    "ins_oid": 6,
    "initials": 7,
    "birth_year": 8,
    "professional_id": 9,
    "profession_code": 10,
    "consent_by": 11,
    "samu_access": 12,
    "break_glass_access": 13,
    "online_access": 14,
}


@dataclass(frozen=True)
class Statement:
    """What one accusé asserts. A password reissue asserts no consent: those fields are None
    and left out of the code. ``key_id``: the service key that signed it (read from the code;
    :func:`encode` takes the signer's)."""

    kind: Kind
    reference: str  # the DMP's id
    at: datetime  # UTC, to the second
    ins_masked: str
    ins_oid: str
    professional_id: str
    profession_code: str
    initials: str | None = None
    birth_year: int | None = None
    consent_by: ConsentBy | None = None
    samu_access: bool | None = None
    break_glass_access: bool | None = None
    online_access: bool | None = None
    version: int = VERSION
    key_id: str | None = None

    def fields(self) -> dict[str, object]:
        """The statement as plain values (``at`` ISO 8601), for display and JSON."""
        values = asdict(self)
        values["at"] = self.at.astimezone(UTC).isoformat(timespec="seconds")
        return {name: value for name, value in values.items() if value is not None}


def mask_ins(value: str) -> str:
    """The NIR's first digit and last four, the rest starred: ``2**********8128``."""
    if len(value) < 6:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 5) + value[-4:]


def initials(first_name: str, last_name: str) -> str:
    """The first letters of the first given name and of the birth name: ``GL``."""
    return "".join(word.strip()[:1].upper() for word in (first_name, last_name) if word.strip())


class Signer(Protocol):
    key_id: str

    def sign(self, data: bytes) -> bytes: ...


def _payload(statement: Statement) -> bytes:
    # Read field by field (not through fields()): asdict's deep copy was a third of the
    # statement's cost per creation (benchmarks/server_throughput.py). KEYS is in key order,
    # so the map comes out canonical without a sort.
    values: dict[int, object] = {}
    for name, key in KEYS.items():
        value = getattr(statement, name)
        if value is None:
            continue
        if name == "at":
            value = int(statement.at.timestamp())
        elif name == "kind":
            value = _KINDS[value]
        elif name == "consent_by":
            value = _CONSENT_BY[value]
        values[key] = value
    return cbor2.dumps(values)


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def encode(statement: Statement, signer: Signer) -> str:
    """The 2D code's text: ``DMP1:`` + base45(zlib(COSE_Sign1(CBOR(statement))))."""
    payload = _payload(statement)
    protected = cbor2.dumps({COSE_ALG: ES256, COSE_KID: bytes.fromhex(signer.key_id)})
    signature = signer.sign(_to_be_signed(protected, payload))
    sign1 = cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature])
    return PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(sign1), 9)).decode("ascii")


# --- verification ----------------------------------------------------------------------------


class _Unreadable(Exception):
    pass


def _decode_sign1(text: str) -> tuple[bytes, bytes, bytes, str]:
    """(protected, payload, signature, kid hex) of the code, or _Unreadable."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise _Unreadable("prefix")
    if len(text) > MAX_CODE_LENGTH:
        raise _Unreadable("length")
    body = text[len(PREFIX) :]
    try:
        compressed = base45.b45decode(body)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, 16 * 1024)  # bounded: no zip bomb
        if inflater.unconsumed_tail or not inflater.eof:
            raise _Unreadable("zlib")
        decoded = cbor2.loads(raw)
    except (ValueError, zlib.error, cbor2.CBORDecodeError, binascii.Error) as error:
        raise _Unreadable(type(error).__name__) from None
    if isinstance(decoded, cbor2.CBORTag):
        if decoded.tag != COSE_SIGN1_TAG:
            raise _Unreadable("tag")
        decoded = decoded.value
    if not (isinstance(decoded, list | tuple) and len(decoded) == 4):
        raise _Unreadable("structure")
    protected, _unprotected, payload, signature = decoded
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise _Unreadable("structure")
    try:
        header = cbor2.loads(protected)
    except (ValueError, cbor2.CBORDecodeError):
        raise _Unreadable("header") from None
    if not isinstance(header, Mapping) or header.get(COSE_ALG) != ES256:
        raise _Unreadable("algorithm")
    kid = header.get(COSE_KID)
    if not isinstance(kid, bytes):
        raise _Unreadable("kid")
    return protected, payload, signature, kid.hex()


def _statement(payload: bytes, kid: str) -> Statement:
    try:
        values = cbor2.loads(payload)
        names = {number: name for name, number in KEYS.items()}
        fields = {names[key]: value for key, value in values.items()}
        kinds = {number: name for name, number in _KINDS.items()}
        fields["kind"] = kinds[fields["kind"]]
        if "consent_by" in fields:
            fields["consent_by"] = {n: name for name, n in _CONSENT_BY.items()}[
                fields["consent_by"]
            ]
        fields["at"] = datetime.fromtimestamp(fields["at"], UTC)
        return Statement(**fields, key_id=kid)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, cbor2.CBORDecodeError):
        raise _Unreadable("fields") from None


def unreadable() -> Verdict:
    return Verdict(
        "unreadable",
        _(
            "Code illisible : ce n'est pas un code d'accusé proclient complet (DMP1:…), "
            "scannez-le à nouveau."
        ),
    )


def verify_code(
    text: str, certificates: Sequence[x509.Certificate], now: datetime | None = None
) -> Verdict:
    """Check a 2D code's text against the service's ``certificates`` at ``now``:

    - valid: signed by one of them, its certificate valid at ``now`` and when it signed
      (``details``: the statement's fields);
    - altered: the signature does not hold for what the code says (a character changed);
    - unknown_key: signed by a key none of the certificates holds;
    - revoked: signed by a key whose certificate has expired (a rotated-out key) or was not
      yet valid when the code says it was signed;
    - unreadable: not a whole code (cut short, another code, control characters, too long).
    """
    now = now or datetime.now(UTC)
    try:
        protected, payload, signature, kid = _decode_sign1(text)
    except _Unreadable:
        return unreadable()
    certificate = next((c for c in certificates if key_id(c) == kid), None)
    if certificate is None:
        return Verdict(
            "unknown_key",
            _(
                "Code signé par une clé inconnue : il ne vient pas du service DMP de "
                "confiance de ce poste."
            ),
            {"key_id": kid},
        )
    if not check_signature(certificate, _to_be_signed(protected, payload), signature):
        return Verdict(
            "altered",
            _("Code modifié : sa signature ne correspond plus à son contenu, l'accusé est refusé."),
            {"key_id": kid},
        )
    try:
        statement = _statement(payload, kid)
    except _Unreadable:
        return unreadable()
    details = statement.fields()
    valid_from, valid_to = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not (valid_from <= now <= valid_to and valid_from <= statement.at <= valid_to):
        return Verdict(
            "revoked",
            _(
                "Code signé par une clé du service qui n'est plus valable (certificat expiré "
                "le {date}) : il ne prouve plus rien.",
                date=valid_to.date().isoformat(),
            ),
            details,
        )
    return Verdict("valid", describe(statement), details)


def describe(statement: Statement) -> str:
    """The valid verdict's sentence: what the accusé asserts, in one French sentence."""
    kinds = {
        "creation": _("création"),
        "reactivation": _("réactivation"),
        "password_reissue": _("nouveau mot de passe"),
    }
    sentence = _(
        "Code valide, signé par le service DMP : {kind} du DMP {reference} le {at} (UTC), "
        "patient INS {ins} ({initials}, né(e) en {year}), professionnel {professional}.",
        kind=kinds[statement.kind],
        reference=statement.reference,
        at=statement.at.strftime("%d/%m/%Y %H:%M"),
        ins=statement.ins_masked,
        initials=statement.initials or "-",
        year=statement.birth_year or "-",
        professional=statement.professional_id,
    )
    if statement.consent_by is not None:
        sentence += " " + _(
            "Consentement du {who} ; accès SAMU {samu} ; bris de glace {glass} ; accès en "
            "ligne {online}.",
            who=_("patient") if statement.consent_by == "patient" else _("représentant légal"),
            samu=_yes_no(statement.samu_access),
            glass=_yes_no(statement.break_glass_access),
            online=_("demandé") if statement.online_access else _("non demandé"),
        )
    return sentence


def _yes_no(value: bool | None) -> str:
    return _("autorisé") if value else _("refusé")
