"""Demo material: a CA, three professionals with PIN-protected keys, the demo INSi register
and seeded DMPs.

Everything here is fictitious. The professional numbers are shaped like real idNat_PS
("8" + an 11-digit RPPS number with its Luhn key) in the 99970… range used by test cards.
The demo patients are :mod:`proclient.core.demo_people`'s, the same as on the demo Vitale cards;
the service's INSi register holds their identities as INSi gives them (``DEMO_REGISTER``), and
the seeded DMPs carry INSi's INS and traits.

The service only issues the files: a workstation turns a professional's key and certificate
into a credential on its side (the credentials package's ``unlock_demo``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from proclient.core.demo_people import DEMO_REGISTER, RegisterEntry
from proclient.core.domain import OID_INS_NIR_TEST, Ins, Professional
from proclient.core.fileutil import file_lock, write_private
from proclient.server.pki import CertifiedKey, create_ca, issue_professional

DEMO_PIN = "1234"

DEMO_PROFESSIONALS = (
    Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare"),
    Professional("899700031216", "ROUX", "Julien", "60", "Cabinet infirmier des Tilleuls"),
    Professional("899700045679", "LEFEBVRE", "Anne", "10", "Cabinet médical du Parc"),
)


@dataclass(frozen=True)
class DemoProfessional:
    professional: Professional
    cert_path: Path
    key_path: Path
    pin: str  # the code porteur that decrypts the key


@dataclass(frozen=True)
class DemoPki:
    directory: Path
    ca_cert_path: Path
    professionals: tuple[DemoProfessional, ...]

    @property
    def default(self) -> DemoProfessional:
        """The pharmacist, the demo's default user."""
        return self.professionals[0]

    @property
    def ca_pem(self) -> bytes:
        return self.ca_cert_path.read_bytes()

    def ca(self) -> CertifiedKey:
        """The demo CA with its key (it issues the demo service's document-signing key)."""
        key = serialization.load_pem_private_key(
            (self.directory / "ca.key").read_bytes(), password=None
        )
        return CertifiedKey(x509.load_pem_x509_certificate(self.ca_pem), key)  # type: ignore[arg-type]

    def by_id(self, id_nat: str) -> DemoProfessional:
        return next(p for p in self.professionals if p.professional.id_nat == id_nat)


def _still_valid(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc > now + timedelta(days=7)


def _load_ca(cert_path: Path, key_path: Path, now: datetime) -> CertifiedKey | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not _still_valid(cert, now):
        return None
    return CertifiedKey(cert, key)  # type: ignore[arg-type]


def _reusable(cert_path: Path, key_path: Path, ca: CertifiedKey, now: datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca.certificate)
    except Exception:  # missing, unreadable, or from a former CA: issue again
        return False
    return key_path.is_file() and _still_valid(cert, now)


def ensure_demo_pki(directory: Path) -> DemoPki:
    """The demo CA and professionals in ``directory``: created on the first call, reused
    afterwards (re-issued when missing, unreadable or about to expire). Files are mode 600.
    The CA key is kept unencrypted: it is a demo CA, trusted by the demo service only."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca.key"
    # Serialise concurrent calls (two terminals starting the demo).
    with file_lock(directory / ".lock"):
        ca = _load_ca(ca_cert_path, ca_key_path, now)
        if ca is None:
            ca = create_ca()
            write_private(ca_key_path, ca.key_pem())
            write_private(ca_cert_path, ca.certificate_pem)
        entries = []
        for professional in DEMO_PROFESSIONALS:
            cert_path = directory / f"{professional.id_nat}.pem"
            key_path = directory / f"{professional.id_nat}.key"
            if not _reusable(cert_path, key_path, ca, now):
                issued = issue_professional(ca, professional)
                write_private(key_path, issued.key_pem(DEMO_PIN))
                write_private(cert_path, issued.certificate_pem)
            entries.append(DemoProfessional(professional, cert_path, key_path, DEMO_PIN))
    return DemoPki(directory, ca_cert_path, tuple(entries))


def demo_patient_ins(nir: str) -> Ins:
    return Ins(nir, OID_INS_NIR_TEST)


def register_identity(entry: RegisterEntry):
    """A demo register entry as the service's register stores it."""
    from proclient.server.register import RegisterIdentity

    return RegisterIdentity(
        ins=Ins(entry.ins, entry.oid),
        birth_name=entry.birth_name,
        given_names=entry.given_names,
        sex=entry.sex,
        birth_date=entry.birth_date,
        birthplace=entry.birthplace,
        history=tuple(Ins(value, oid) for value, oid in entry.history),
    )


def seed_demo_dmps(
    db_path: Path | str, *, reset: bool = False, pseudonym_secret: bytes | None = None
) -> None:
    """The demo INSi register (every ``DEMO_REGISTER`` entry, upserted) and the seeded DMPs
    of its entries (``RegisterEntry.dmp``): BEN SAID Karim's closed, CASANOVA-ORSINI
    Marie-Ange's active, so that the demo shows the reactivation and the 'already exists'
    paths; they carry INSi's INS and traits. Idempotent: those are put back in their seeded
    state on each call. With ``reset``, the other register people's DMPs (LE GOFF, DURAND…)
    are removed so that the demo's creations can be replayed. ``pseudonym_secret``: the
    service's pseudonymisation key (seeding writes audit lines). Test mode only: a
    production service seeds nothing."""
    from proclient.server import register
    from proclient.server.storage import Storage

    storage = Storage(db_path, pseudonym_secret)  # a SQLite path or a database URL
    try:
        storage.initialize()
        at = datetime.now(UTC).isoformat(timespec="seconds")
        register.store(storage, (register_identity(e) for e in DEMO_REGISTER), at)
        for entry in DEMO_REGISTER:
            ins = Ins(entry.ins, entry.oid)
            if entry.dmp is not None:
                identity = {
                    "last_name": entry.birth_name,
                    "first_name": " ".join(entry.given_names),
                    "birth_date": entry.birth_date,
                    "sex": entry.sex,
                }
                storage.seed_dmp(ins, identity, entry.dmp)
            elif reset:
                storage.remove_dmp(ins)
    finally:
        storage.close()


def ensure_demo_tls(pki: DemoPki, cert_path: Path, key_path: Path, hosts: list[str]) -> None:
    """A TLS server certificate for ``hosts`` from the demo CA at ``cert_path``/``key_path``
    (mode 600): issued when missing, from another CA, not covering the names or ending within
    a week; reused otherwise."""
    from proclient.server.pki import issue_server_certificate

    ca_cert = x509.load_pem_x509_certificate(pki.ca_pem)
    if _server_cert_reusable(cert_path, key_path, ca_cert, hosts):
        return
    ca_key = serialization.load_pem_private_key(
        (pki.directory / "ca.key").read_bytes(), password=None
    )
    issued = issue_server_certificate(CertifiedKey(ca_cert, ca_key), hosts)  # type: ignore[arg-type]
    cert_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(key_path, issued.key_pem())
    write_private(cert_path, issued.certificate_pem)


def _server_cert_reusable(cert_path: Path, key_path: Path, ca, hosts: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # missing, unreadable, from another CA: issue again
        return False
    present = {str(n) for n in names.get_values_for_type(x509.DNSName)}
    present |= {str(n) for n in names.get_values_for_type(x509.IPAddress)}
    return (
        key_path.is_file()
        and set(hosts) <= present
        and cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=7)
    )
