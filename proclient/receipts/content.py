"""The content of the accusé de création and of the secrets sheet, built once.

``pdf.py`` and ``text.py`` both render a :class:`Document`, so the printed receipt and the
terminal preview never say different things. Every string a reader sees goes through ``_``,
inside ``french()``: a receipt is a French legal document whatever the UI language (this file
is left out of the catalogues: see [tool.babel] in pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from proclient.core.clock import paris_time
from proclient.core.domain import (
    Action,
    IdentitySource,
    Professional,
    format_nir,
    mask_email,
    mask_mobile,
)
from proclient.core.i18n import _, french
from proclient.core.identity import Document as IdentityDocument
from proclient.core.records import CreationReceipt, CreationRequest, RecordedSlip, SecretsSheet

# The patient's portal: public, the same for everyone; the only thing worth a QR code here.
PORTAL_URL = "https://www.monespacesante.fr"


@dataclass(frozen=True)
class Row:
    """One labelled value. ``secret`` rows (login, password) print large, in a mono font."""

    label: str
    value: str
    secret: bool = False


@dataclass(frozen=True)
class Section:
    """A titled block: labelled rows, then free sentences (shown as bullets)."""

    title: str
    rows: tuple[Row, ...] = ()
    notes: tuple[str, ...] = ()
    qr: str | None = None  # a public address to print as a QR code beside the notes


@dataclass(frozen=True)
class Document:
    """A whole printable page: title, optional demo banner, sections, closing lines.

    ``meta_title`` is the PDF metadata title: generic on purpose (no patient name, no NIR).
    """

    title: str
    meta_title: str
    sections: tuple[Section, ...]
    banner: str | None = None
    footer: tuple[str, ...] = ()
    statement: str | None = None  # the signed statement's text, also in the PDF's metadata
    statement_note: str = ""  # what its 2D code is, printed beside it


def format_when(at: datetime) -> str:
    local = paris_time(at)
    return _(
        "{date} à {time} (heure de Paris)",
        date=local.strftime("%d/%m/%Y"),
        time=local.strftime("%H:%M"),
    )


def demo_banner() -> str:
    return _("DÉMONSTRATION — sans valeur")


def _yes_no_access(allowed: bool) -> str:
    return _("autorisé") if allowed else _("refusé")


def _emergency_rows(consent) -> tuple[Row, Row]:
    """The two emergency accesses, as the accusé and the slip say them."""
    return (
        Row(
            _("Accès d'urgence par le médecin du SAMU (centre 15)"),
            _yes_no_access(consent.samu_access),
        ),
        Row(
            _("Accès en bris de glace (urgence vitale)"), _yes_no_access(consent.break_glass_access)
        ),
    )


def _patient_section(request: CreationRequest) -> Section:
    """Who the DMP is for. Today that is INSi's identity (birth name, given names, sex, birth
    date), its INS with the OID's label, the RNIV status and the kind of document seen (never
    its number). An older request (journal, outbox) has no identity check: those lines are
    left out and the identity says where it came from (card or typed)."""
    patient = request.patient
    insi = patient.source is IdentitySource.INSI
    birth = patient.birth_date.display
    if patient.birth_date.is_lunar:
        birth = (
            _("{date} (date lunaire, telle que donnée par l'INSi)", date=birth)
            if insi
            else _("{date} (date lunaire, telle que lue)", date=birth)
        )
    source = {
        IdentitySource.INSI: _("traits de l'INSi"),
        IdentitySource.CARD: _("lue sur la carte Vitale"),
        IdentitySource.TYPED: _("saisie par le professionnel"),
    }[patient.source]
    rows = [
        Row(_("Nom de naissance") if insi else _("Nom"), patient.last_name),
        Row(_("Prénom(s)"), patient.first_name),
        Row(_("Date de naissance"), birth),
        Row(_("Sexe"), patient.sex.label if patient.sex else _("non renseigné")),
        Row(_("INS ({label})", label=patient.ins.label), format_nir(patient.ins.value)),
        Row(_("OID de l'INS"), patient.ins.oid),
        Row(_("Identité"), source),
    ]
    check = request.identity
    if check is not None and check.status is not None:
        rows.append(Row(_("Statut de l'identité"), check.status.label))
    if check is not None and check.document is not None:
        if check.document is IdentityDocument.NONE:
            rows.append(Row(_("Pièce d'identité"), check.document.label))
        else:
            rows.append(Row(_("Pièce d'identité vue"), check.document.label))
    return Section(_("Patient"), tuple(rows))


@french()
def signed_note(professional: Professional) -> str:
    """The accusé's closing line when the professional's card signs it (PAdES)."""
    return _(
        "Accusé signé électroniquement par {name} : un lecteur PDF affiche cette signature "
        "et signale toute modification faite depuis.",
        name=professional.display_name,
    )


# The PDF's /Info entry holding the service's signed statement (pdf.py writes it,
# verification.py reads it).
STATEMENT_KEY = "ProclientStatement"


@french()
def unsigned_note(reason: str) -> str:
    """The accusé's closing line when it could not be signed: ``reason`` is "ecps" (signed
    in by e-CPS: no card to sign with), "card" (the card could not sign) or "other_card"
    (the card present is not the professional's who made the accusé)."""
    if reason == "ecps":
        return _(
            "Accusé non signé électroniquement : le professionnel s'est connecté par e-CPS, "
            "sans carte CPS pour le signer."
        )
    if reason == "other_card":
        return _(
            "Accusé non signé électroniquement : la carte CPS présente n'est pas celle du "
            "professionnel qui l'a établi."
        )
    return _("Accusé non signé électroniquement : la carte CPS n'a pas pu le signer.")


@french()
def receipt_content(receipt: CreationReceipt, proof_line: str | None = None) -> Document:
    """The accusé de création (or de réactivation) as sections of labelled values;
    ``proof_line``: whether it is signed (:func:`signed_note`, :func:`unsigned_note`)."""
    request = receipt.request
    reactivation = request.action is Action.REACTIVATION
    title = _("Accusé de réactivation du DMP") if reactivation else _("Accusé de création du DMP")

    sections = [_patient_section(request)]
    representative = request.legal_representative
    if representative is not None:
        sections.append(
            Section(
                _("Représentant légal"),
                (
                    Row(
                        _("Nom et prénom"),
                        f"{representative.last_name} {representative.first_name}",
                    ),
                    Row(_("Lien avec le patient"), representative.relationship.label),
                ),
            )
        )

    professional = receipt.professional
    pro_rows = [
        Row(_("Nom"), professional.display_name),
        Row(_("Profession"), professional.profession),
        Row(_("Identifiant national"), professional.id_nat),
    ]
    if professional.structure:
        pro_rows.append(Row(_("Structure"), professional.structure))
    sections.append(Section(_("Professionnel de santé"), tuple(pro_rows)))

    sections.append(
        Section(
            _("Dossier Médical Partagé"),
            (
                Row(_("Identifiant du DMP"), receipt.dmp_id),
                Row(_("Opération"), _("Réactivation") if reactivation else _("Création")),
                Row(_("Date et heure"), format_when(receipt.at)),
            ),
        )
    )

    consent = request.consent
    if consent.creation:
        given = (
            _("recueilli auprès du représentant légal")
            if representative is not None
            else _("recueilli et enregistré")
        )
    else:
        given = _("non recueilli")
    captured = (
        (Row(_("Recueilli hors connexion le"), format_when(receipt.consent_captured_at)),)
        if receipt.consent_captured_at is not None
        else ()
    )
    sections.append(
        Section(
            _("Consentement et accès en urgence"),
            (
                Row(
                    _("Consentement à la réactivation")
                    if reactivation
                    else _("Consentement à la création"),
                    given,
                ),
                *captured,
                *_emergency_rows(consent),
            ),
        )
    )

    web = request.web_access
    if web is None:
        sections.append(Section(_("Accès en ligne"), (Row(_("Accès en ligne"), _("non demandé")),)))
    else:
        web_rows = [Row(_("Accès en ligne"), _("demandé"))]
        if web.email:
            web_rows.append(Row(_("Codes envoyés par e-mail à"), mask_email(web.email)))
        if web.mobile:
            web_rows.append(Row(_("Codes envoyés par SMS au"), mask_mobile(web.mobile)))
        sections.append(
            Section(
                _("Accès en ligne"),
                tuple(web_rows),
                (
                    _(
                        "Votre identifiant et votre mot de passe provisoire vous sont remis "
                        "sur une feuille séparée."
                    ),
                ),
            )
        )

    sections.append(
        Section(
            _("Et maintenant ?"),
            notes=(
                _("Consultez votre DMP sur Mon espace santé (monespacesante.fr)."),
                _("Vous pouvez masquer un document de votre DMP."),
                _("Vous pouvez vous opposer à l'accès d'un professionnel à votre DMP."),
                _("Vous pouvez modifier vos choix d'accès en urgence."),
                _("Vous pouvez fermer votre DMP à tout moment."),
            ),
            qr=PORTAL_URL,
        )
    )

    return Document(
        title=title,
        meta_title=title,
        sections=tuple(sections),
        statement=receipt.statement,
        statement_note=_(
            "Code signé par le service DMP : il atteste la date, le professionnel et les choix "
            "de cet accusé. Vérification : « proclient verify »."
        ),
        banner=demo_banner() if receipt.demo else None,
        footer=(
            _("Document remis au patient. Il ne contient ni identifiant ni mot de passe."),
            *((proof_line,) if proof_line else ()),
        ),
    )


@french()
def slip_content(slip: RecordedSlip) -> Document:
    """The slip of a creation recorded offline (no DMP id, no secret)."""
    title = _("Demande de création du DMP enregistrée")
    professional = slip.professional
    rows = [
        Row(_("Patient"), slip.patient_name),
        Row(_("Enregistrée le"), format_when(slip.at)),
        Row(_("Par"), f"{professional.display_name}, {professional.profession}"),
        Row(_("Identifiant national"), professional.id_nat),
    ]
    rep = slip.legal_representative
    if rep is not None:
        rows.append(Row(_("Représentant légal"), f"{rep.last_name} {rep.first_name}"))
    consent = slip.consent
    sections = [
        Section(_("Votre demande"), tuple(rows)),
        Section(
            _("Vos choix"),
            (
                Row(_("Consentement à la création"), _("recueilli")),
                *_emergency_rows(consent),
            ),
        ),
        Section(
            _("Et maintenant ?"),
            notes=(
                _(
                    "Le service DMP n'était pas joignable : votre DMP n'est pas encore créé. "
                    "Il le sera dès le retour du réseau, après vérification de votre identité "
                    "auprès de l'INSi."
                ),
                _("Le professionnel vous remettra alors l'accusé de création."),
                _("Vous pourrez ensuite consulter votre DMP sur Mon espace santé."),
            ),
        ),
    ]
    return Document(
        title=title,
        meta_title=title,
        sections=tuple(sections),
        banner=demo_banner() if slip.demo else None,
        footer=(_("Ce document ne contient ni identifiant ni mot de passe."),),
    )


@french()
def secrets_content(sheet: SecretsSheet, demo: bool = False) -> Document:
    """The separate sheet with the login and initial password (printed, never stored)."""
    rows = [Row(_("Patient"), sheet.patient_name)]
    if sheet.at is not None:
        rows.append(Row(_("Date et heure"), format_when(sheet.at)))
    channels = []
    if sheet.email_masked:
        channels.append(Row(_("Par e-mail à"), sheet.email_masked))
    if sheet.mobile_masked:
        channels.append(Row(_("Par SMS au"), sheet.mobile_masked))
    sections = [
        Section(_("Titulaire"), tuple(rows)),
        Section(
            _("Vos codes de connexion"),
            (
                Row(_("Identifiant"), sheet.login, secret=True),
                Row(_("Mot de passe provisoire"), sheet.initial_password, secret=True),
            ),
            (_("À saisir sur Mon espace santé : {url}", url=PORTAL_URL),),
            qr=PORTAL_URL,
        ),
    ]
    if channels:
        sections.append(
            Section(
                _("Codes à usage unique"),
                tuple(channels),
                (_("À chaque connexion, un code à usage unique vous est envoyé."),),
            )
        )
    sections.append(
        Section(
            _("Important"),
            notes=(
                _(
                    "Ce document est le seul exemplaire de votre mot de passe provisoire : "
                    "il n'est enregistré nulle part. Conservez-le à l'abri."
                ),
                _(
                    "Respectez les majuscules et les minuscules. Le mot de passe ne contient "
                    "ni O ni 0, ni I ni l ni 1."
                ),
                _("Ne communiquez jamais ce mot de passe, ni par téléphone ni par e-mail."),
            ),
        )
    )
    title = _("Accès en ligne à votre DMP")
    return Document(
        title=title,
        meta_title=title,
        sections=tuple(sections),
        banner=demo_banner() if demo else None,
    )
