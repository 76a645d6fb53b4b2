"""The composition root: settings → one adapter per port → what the App is given.

Nothing else lives here: the adapters are in their packages (cardreader/, credentials/,
service/, the embedded service), the App and its controllers never know which ones stand
behind the ports. The demo takes the same code path as real use; only the adapters differ
(virtual cards in-process, the embedded DMP service, the demo professional's CPS).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.logsafe import log_unexpected
from proclient.core.proof.trust import service_certificates
from proclient.core.settings import Settings
from proclient.ports import ServiceBinding, Wiring

__all__ = ["Wiring", "configured_wiring", "demo_wiring", "pcsc_demo_wiring"]

log = logging.getLogger(__name__)


def _workstation_fields(settings: Settings, demo: bool = False) -> dict:
    """What every wiring takes from the workstation's settings."""
    return {
        "receipts_dir": settings.paths.receipts_dir,
        "receipt_format": settings.receipts.format,
        "printer": settings.printer.name,
        "auto_print": bool(settings.printer.name and settings.printer.auto),
        "idle_lock_minutes": settings.session.idle_lock_minutes,
        "pending_dir": settings.paths.data_dir / "pending",
        "keymap": dict(settings.keys),
        "outbox": workstation_outbox(settings, demo=demo),
        "national_id_file": (settings.paths.demo_dir if demo else settings.paths.data_dir)
        / "e-cps-national-id",
        "verify_trust": functools.partial(service_certificates, settings, demo=demo),
    }


def workstation_outbox(settings: Settings, demo: bool = False):
    """The creations recorded offline: encrypted files in the data folder (the demo's own
    folder for the demo), the key outside it (the system keyring, else a 0600 file in the
    config folder). With PROCLIENT_HOME (an isolated home: tests, a training room) the key
    stays in that home's config folder, never in the user's keyring."""
    import os

    from proclient.outbox.keys import OutboxKey
    from proclient.outbox.store import EncryptedOutbox

    directory = (settings.paths.demo_dir if demo else settings.paths.data_dir) / "outbox"
    key = OutboxKey(settings.paths.config_dir, use_keyring=not os.environ.get("PROCLIENT_HOME"))
    return EncryptedOutbox(directory, key)


# --- the demo ------------------------------------------------------------------------------


def demo_credentials(demo_dir: Path, user, present: Callable[[], bool]):
    """The demo professional's CPS: a SoftHSM2 token when SoftHSM2 is installed (provisioned
    in the demo folder on first use), else the software credential of the same key; either
    blocks after three wrong codes, as a card does (its count in the demo folder)."""
    from proclient.credentials.demo_tries import DEMO_TRIES_FILE, DemoPinCounter
    from proclient.credentials.softhsm import DEMO_TOKEN_LABEL, ensure_demo_token
    from proclient.credentials.sources import Pkcs11CredentialSource, SoftwareCredentialSource

    label = f"{user.professional.display_name}, {user.professional.profession}"
    tries = DemoPinCounter(demo_dir / DEMO_TRIES_FILE)
    try:
        store = ensure_demo_token(demo_dir / "softhsm", user.key_path, user.cert_path, user.pin)
    except Exception:
        log_unexpected(log, "demo SoftHSM2 token not provisioned")
        store = None
    if store is None:
        return SoftwareCredentialSource(
            user.key_path,
            user.cert_path,
            label=label,
            present=present,
            tries=tries,
            hint=_("Code porteur de démonstration : {pin}", pin=user.pin),
        )
    return Pkcs11CredentialSource(
        store.module_path,
        label,
        token_label=DEMO_TOKEN_LABEL,
        environment=store.environment,
        present=present,
        tries=tries,
        hint=_("Carte CPS de démonstration (SoftHSM2) : code porteur {pin}", pin=user.pin),
    )


def demo_wiring(
    settings: Settings, offline: bool = False, *, client_options: dict | None = None
) -> Wiring:
    """Virtual cards in an in-process reader, the embedded service, a demo pharmacist;
    ``offline``: the embedded service's network cut from the start (F12 restores it).
    ``client_options``: the service client's budgets (``login_budget``, ``retry_budget``:
    proclient/service/client.py), its defaults when None; the tests shorten them, so that a
    cut network is not waited out for the real 4.5 s and 20 s at every step; and
    ``psc_interval``, the demo PSC's CIBA interval (5 s; 1 s in the tests)."""
    from proclient.cardreader.demo_deck import VirtualDeck
    from proclient.cardreader.virtual import (
        PATIENT_READER,
        PROFESSIONAL_READER,
        VirtualReaderBackend,
    )
    from proclient.embedded_service import NetworkSwitch

    readers = VirtualReaderBackend()
    deck = VirtualDeck(readers, PATIENT_READER, PROFESSIONAL_READER)
    deck.toggle_cps()  # the pharmacist's CPS, in from the start
    demo_dir = settings.paths.demo_dir
    network = NetworkSwitch(cut=offline)

    def open_service() -> ServiceBinding:
        from proclient.embedded_service import embedded_client, embedded_psc
        from proclient.service.workstation import workstation_secret

        options = {"workstation": workstation_secret(demo_dir), **(client_options or {})}
        psc, phone, standin = embedded_psc(demo_dir, options.pop("psc_interval", 5))
        apps: list = []

        def stop() -> None:
            for app in apps:
                if app.state.psc is not None:
                    app.state.psc.close()  # its kept-alive connection to the stand-in first
            standin.stop()

        try:
            client, pki = embedded_client(
                demo_dir, switch=network, psc=psc, on_app=apps.append, **options
            )
        except BaseException:
            stop()
            raise
        return ServiceBinding(
            client=client,
            credentials=demo_credentials(demo_dir, pki.default, deck.cps_present),
            description=_("service DMP intégré (démonstration)"),
            phone=phone,
            stop=stop,
        )

    return Wiring(
        demo=True,
        readers=readers,
        patient_reader=PATIENT_READER,
        professional_reader=PROFESSIONAL_READER,
        **_workstation_fields(settings, demo=True),
        open_service=open_service,
        deck=deck,
        network=network,
    )


def pcsc_demo_wiring(
    settings: Settings, host: str | None = None, port: int | None = None
) -> Wiring:
    """The demo through the real card stack: pyscard → pcscd → vpcd → the demo cards, served
    by vpcd bridges from this process (``proclient demo --pcsc``). Needs pcscd with vpcd."""
    from dataclasses import replace

    from proclient.cardreader.cps_emulator import CpsEmulator
    from proclient.cardreader.demo_deck import VpcdDeck
    from proclient.cardreader.emulator import VitaleEmulator
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend
    from proclient.cardreader.vpcd import DEFAULT_HOST, PATIENT_PORT, VpcdBridge

    base = demo_wiring(settings)
    host, port = host or DEFAULT_HOST, port or PATIENT_PORT
    # "pcd 00 00" matches vpcd's first slot whatever its friendly name ("Virtual PCD", ours).
    readers = PcscReaderBackend({PATIENT: "pcd 00 00", PROFESSIONAL: "pcd 00 01"})
    patient = VpcdBridge(VitaleEmulator.from_demo("legoff"), port, host)
    professional = VpcdBridge(CpsEmulator(3), port + 1, host)
    try:
        professional.insert(timeout=2)
    except OSError:
        raise DomainError(
            "NO_READER",
            _(
                "Aucun lecteur vpcd sur {host}:{port} : lancez pcscd avec le pilote vpcd (paquet "
                "vsmartcard-vpcd), ou « proclient demo » sans --pcsc.",
                host=host,
                port=port,
            ),
        ) from None
    deck = VpcdDeck(patient, professional, presence=base.deck)
    return replace(
        base, readers=readers, patient_reader=PATIENT, professional_reader=PROFESSIONAL, deck=deck
    )


# --- a configured workstation ------------------------------------------------------------------


def configured_credentials(settings: Settings, present: Callable[[], bool] | None = None):
    """The workstation's credential: the CPS through settings' PKCS#11 module when set, else
    a software key and certificate (training)."""
    from proclient.credentials.sources import Pkcs11CredentialSource, SoftwareCredentialSource

    if settings.credential.pkcs11_module:
        return Pkcs11CredentialSource(
            settings.credential.pkcs11_module,
            _("carte CPS"),
            token_label=settings.credential.token_label,
            present=present,
        )
    if settings.credential.key and settings.credential.certificate:
        return SoftwareCredentialSource(
            Path(settings.credential.key),
            Path(settings.credential.certificate),
            label=_("certificat logiciel"),
            present=present,
        )
    raise DomainError(
        "CONFIG",
        _(
            "Aucune carte CPS n'est configurée : renseignez le module PKCS#11 de la carte "
            "(réglage credential.pkcs11_module)."
        ),
    )


def pcsc_slots(settings: Settings) -> dict[str, str]:
    """The logical reader slots and the reader-name parts that pick them (settings.readers)."""
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL

    return {
        PATIENT: settings.readers.patient or "",
        PROFESSIONAL: settings.readers.professional or "",
    }


def configured_wiring(settings: Settings) -> Wiring:
    """Real readers on pcscd and the configured DMP service (settings.service.url)."""
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend

    if not settings.service.url:
        raise DomainError(
            "CONFIG",
            _(
                "Aucun service DMP n'est réglé : renseignez service.url dans {path}.",
                path=settings.paths.config_file,
            ),
        )
    readers = PcscReaderBackend(pcsc_slots(settings))
    credentials = configured_credentials(settings)  # raises now: said before the TUI opens

    def open_service() -> ServiceBinding:
        from proclient.service.client import DmpServiceClient
        from proclient.service.workstation import workstation_secret

        # Checks the URL (https, or http on loopback only) and loads the CA bundle.
        client = DmpServiceClient.from_settings(
            settings, workstation=workstation_secret(settings.paths.data_dir)
        )
        return ServiceBinding(
            client=client,
            credentials=credentials,
            description=_("service DMP {url}", url=settings.service.url),
        )

    return Wiring(
        demo=False,
        readers=readers,
        patient_reader=PATIENT,
        professional_reader=PROFESSIONAL,
        **_workstation_fields(settings),
        open_service=open_service,
    )
