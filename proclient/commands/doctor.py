"""`proclient doctor`: is this workstation ready? pcscd, readers, cards, service, printer,
creations recorded offline, the places of birth the program carries (which COG).

Each line says what was found and, when something is wrong, what to do about it, in French.
Exit 0 when everything needed is there, 1 otherwise.
"""

from __future__ import annotations

from proclient.core.i18n import N_, _

NAME = "doctor"
HELP = _("vérifie le poste : pcscd, lecteurs, cartes, service DMP, imprimante")

CARD_NAMES = {
    "vitale2": N_("carte Vitale 2"),
    "vitale1": N_("carte Vitale 1 (illisible ici : saisie manuelle)"),
    "cps": N_("carte CPS (professionnel)"),
    "unknown": N_("carte inconnue"),
}


def configure(parser) -> None:
    pass


def check_readers() -> list[tuple[bool, str]]:
    """pcscd, its readers and the cards in them."""
    from proclient.cardreader.errors import CardError
    from proclient.cardreader.pcsc import PcscReaderBackend
    from proclient.cardreader.vitale import card_type_from_atr

    backend = PcscReaderBackend()
    try:
        readers = backend.list_readers()
    except CardError:
        return [
            (
                False,
                _(
                    "pcscd ne répond pas : installez le paquet pcscd et démarrez-le "
                    "(sudo systemctl start pcscd.socket)."
                ),
            )
        ]
    lines = [(True, _("pcscd répond."))]
    if not readers:
        return [
            *lines,
            (
                False,
                _(
                    "Aucun lecteur de carte : branchez le lecteur (USB) ; s'il "
                    "l'est déjà, installez son pilote (paquet libccid)."
                ),
            ),
        ]
    for reader in readers:
        try:
            connection = backend.connect(reader)
        except CardError as error:
            if error.code == "NO_CARD":
                lines.append((True, _("Lecteur « {r} » : pas de carte.", r=reader)))
            else:
                lines.append((False, _("Lecteur « {r} » : {m}", r=reader, m=error.message)))
            continue
        try:
            kind = card_type_from_atr(connection.atr).value
        finally:
            connection.disconnect()
        lines.append((True, _("Lecteur « {r} » : {card}.", r=reader, card=_(CARD_NAMES[kind]))))
    return lines


def check_service(settings) -> tuple[bool, str]:
    """The configured DMP service answers its health check, through the same client (URL
    rules, CA bundle, TLS always verified) the application uses."""
    if not settings.service.url:
        return True, _(
            "Service DMP : aucun réglé ; la démonstration (proclient demo) utilise "
            "le service intégré."
        )
    import asyncio

    import httpx

    from proclient.service.client import DmpServiceClient
    from proclient.service.errors import ServiceError

    async def healthy() -> bool:
        try:
            client = DmpServiceClient.from_settings(settings, timeout=httpx.Timeout(5.0))
        except ServiceError:  # the URL or CA bundle setting is unusable
            return False
        async with client:
            return await client.health()

    if not asyncio.run(healthy()):
        return False, _(
            "Service DMP {url} injoignable : vérifiez l'adresse (service.url), le "
            "certificat (service.ca_bundle) et le réseau.",
            url=settings.service.url,
        )
    return True, _("Service DMP {url} : répond.", url=settings.service.url)


def check_printer() -> tuple[bool, str]:
    import shutil
    import subprocess

    if shutil.which("lp") is None or shutil.which("lpstat") is None:
        return True, _(
            "Impression : CUPS absent ; les accusés sont enregistrés en PDF et la "
            "feuille de codes s'affiche à l'écran (installez cups-client pour "
            "imprimer)."
        )
    try:
        default = subprocess.run(["lpstat", "-d"], capture_output=True, text=True, timeout=5)
        printers = subprocess.run(["lpstat", "-p"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False, _(
            "Impression : CUPS ne répond pas : démarrez-le (sudo systemctl start cups)."
        )
    if printers.returncode != 0 or not printers.stdout.strip():
        return False, _(
            "Impression : aucune imprimante ; ajoutez-en une dans CUPS "
            "(http://localhost:631 ou lpadmin)."
        )
    if ":" not in default.stdout:
        return False, _(
            "Impression : pas d'imprimante par défaut ; choisissez-la avec « lpoptions -d NOM »."
        )
    name = default.stdout.split(":", 1)[1].strip()
    return True, _("Impression : imprimante par défaut « {name} ».", name=name)


def check_outbox(settings) -> tuple[bool, str]:
    """The creations recorded offline: how many wait, and whether their key is there."""
    from proclient.core.domain import DomainError
    from proclient.wiring import workstation_outbox

    outbox = workstation_outbox(settings)
    try:
        entries = outbox.list()
    except DomainError as error:  # OUTBOX_KEY_MISSING
        return False, _("Créations hors connexion : {problem}", problem=error.message)
    except OSError:
        return False, _(
            "Créations hors connexion : le dossier {dir} est illisible.", dir=outbox.directory
        )
    if not entries:
        return True, _("Créations hors connexion : aucune en attente.")
    tampered = sum(1 for entry in entries if entry.state.value == "tampered")
    if tampered:
        return False, _(
            "Créations hors connexion : {n} en attente dont {bad} modifiée(s) sur le disque "
            "(« proclient outbox list »).",
            n=len(entries),
            bad=tampered,
        )
    return True, _(
        "Créations hors connexion : {n} en attente ; elles partent quand le service répond "
        "(« proclient outbox list »).",
        n=len(entries),
    )


def check_places() -> tuple[bool, str]:
    """The Code officiel géographique shipped for places of birth, and which millésime: a
    commune created since is not known by name (its code may still be typed)."""
    from proclient.core.places import data_vintage

    try:
        vintage = data_vintage()
    except (OSError, ValueError, KeyError, EOFError):
        return False, _(
            "Lieux de naissance : la table des communes est illisible ; réinstallez proclient."
        )
    return True, vintage.describe() + "."


def run(args, settings) -> int:
    checks = [
        *check_readers(),
        check_service(settings),
        check_printer(),
        check_outbox(settings),
        check_places(),
    ]
    for ok, line in checks:
        print(("✓ " if ok else "✗ ") + line)
    if all(ok for ok, _line in checks):
        print(_("Tout est prêt."))
        return 0
    print(_("À corriger : les lignes marquées ✗."))
    return 1
