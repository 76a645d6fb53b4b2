"""The error vocabulary shared by the DMP service and its client: stable codes and the one
French sentence each stands for.

The server phrases its ``application/problem+json`` answers with it; the client shows the same
sentence per code even when the answer came from an older server, and names its own failures
(``SERVICE_*``) with it. Core: no FastAPI, no httpx. The HTTP status of each code is the
server's business (:mod:`proclient.server.problems`); the client's error type is
:class:`proclient.service.errors.ServiceError`.
"""

from __future__ import annotations

from proclient.core.i18n import _

# The client's own codes: the service could not be reached, its certificate was refused, or it
# answered something unexpected.
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
SERVICE_TLS = "SERVICE_TLS"
SERVICE_TLS_REFUSED = "SERVICE_TLS_REFUSED"
SERVICE_ERROR = "SERVICE_ERROR"


def problem_message(code: str) -> str | None:
    """The French sentence for a known code, or None."""
    messages = {
        # Authentication
        "AUTH_REQUIRED": _("Connectez-vous au service DMP avec votre carte CPS pour continuer."),
        "AUTH_SESSION_EXPIRED": _(
            "Votre session au service DMP a expiré : reconnectez-vous avec votre carte CPS."
        ),
        "AUTH_CERT_UNTRUSTED": _(
            "Votre certificat n'est pas reconnu par ce service DMP : utilisez une carte CPS "
            "délivrée pour ce service."
        ),
        "AUTH_CERT_EXPIRED": _(
            "Votre certificat est expiré ou pas encore valide : vérifiez la date de l'ordinateur "
            "ou renouvelez votre carte."
        ),
        "AUTH_CERT_INVALID": _(
            "Le certificat présenté n'est pas un certificat d'authentification de professionnel "
            "de santé : utilisez votre carte CPS."
        ),
        "AUTH_BAD_SIGNATURE": _(
            "La signature de votre carte n'a pas pu être vérifiée : retirez puis réinsérez la "
            "carte et réessayez."
        ),
        "AUTH_CHALLENGE_EXPIRED": _("Le délai de connexion est dépassé : réessayez."),
        "AUTH_CHALLENGE_USED": _("Cette demande de connexion a déjà servi : réessayez."),
        "AUTH_CHALLENGE_UNKNOWN": _("Cette demande de connexion est inconnue : réessayez."),
        "AUTH_RATE_LIMITED": _(
            "Trop de connexions refusées avec cette carte : attendez une minute avant de réessayer."
        ),
        # e-CPS sign-in through Pro Santé Connect
        "AUTH_WORKSTATION_MISMATCH": _(
            "Cette session e-CPS a été ouverte sur un autre poste : connectez-vous de nouveau "
            "sur celui-ci."
        ),
        "ECPS_UNKNOWN_PROFESSIONAL": _(
            "Pro Santé Connect ne connaît pas ce professionnel : vérifiez l'identifiant "
            "national (RPPS ou ADELI) et que l'application e-CPS est activée."
        ),
        "ECPS_UNAVAILABLE": _(
            "Pro Santé Connect ne répond pas au service DMP : réessayez dans quelques minutes "
            "ou connectez-vous avec votre carte CPS."
        ),
        "ECPS_NOT_CONFIGURED": _(
            "Ce service DMP ne propose pas la connexion e-CPS : connectez-vous avec votre "
            "carte CPS."
        ),
        "ECPS_REFUSED": _(
            "La connexion a été refusée dans l'application e-CPS : recommencez si c'était une "
            "erreur."
        ),
        "ECPS_EXPIRED": _(
            "La connexion n'a pas été validée à temps dans l'application e-CPS : recommencez."
        ),
        "ECPS_CANCELLED": _("Cette demande de connexion e-CPS a été annulée : recommencez."),
        "ECPS_REQUEST_UNKNOWN": _(
            "Cette demande de connexion e-CPS est inconnue du service DMP : recommencez."
        ),
        "ECPS_REQUEST_USED": _(
            "Cette demande de connexion e-CPS a déjà servi : recommencez la connexion."
        ),
        "ECPS_TOKEN_INVALID": _(
            "La réponse de Pro Santé Connect n'a pas passé les contrôles du service DMP : la "
            "connexion est refusée ; réessayez, et si cela persiste, contactez le support."
        ),
        # DMP states (DMPi vocabulary)
        "DMPFound": _("Ce patient a déjà un DMP actif : il n'y a rien à créer."),
        "DMPNotFound": _("Ce patient n'a pas de DMP : créez-le d'abord."),
        "DMPClosed": _("Le DMP de ce patient est fermé : proposez-lui sa réactivation."),
        "DMPPatientAccessAlreadyExists": _(
            "Ce patient a déjà un accès en ligne à son DMP : ses identifiants restent valables."
        ),
        "DMPPatientAccessNotFound": _(
            "Ce patient n'a pas d'accès en ligne à son DMP : ouvrez-le d'abord, il n'y a pas de "
            "mot de passe à renouveler."
        ),
        "DMP_NOT_AUTHORIZED": _(
            "Vous n'êtes pas autorisé sur le DMP de ce patient : seul un professionnel autorisé "
            "(celui qui l'a créé ou réactivé) peut ouvrir son accès en ligne ou lui remettre un "
            "nouveau mot de passe."
        ),
        "PASSWORD_NOT_ISSUED": _(
            "Le service DMP n'a pas remis de nouveau mot de passe provisoire : réessayez."
        ),
        # Rules of a creation
        "PATIENT_MINOR": _("Le patient est mineur : saisissez son représentant légal."),
        "CONSENT_MISSING": _(
            "Le consentement du patient à la création est obligatoire : recueillez-le puis "
            "cochez-le."
        ),
        "MISSING_CHANNEL": _(
            "Saisissez une adresse e-mail ou un numéro de mobile pour l'accès en ligne."
        ),
        "INS_TEST_ON_PRODUCTION": _(
            "Ce service DMP est en production : les cartes et INS de test y sont refusés."
        ),
        "INS_REAL_ON_TEST": _(
            "Ce service DMP est un service de test : les INS réels y sont refusés ; utilisez une "
            "carte de test."
        ),
        "INS_OID_UNKNOWN": _("Type d'INS inconnu : seul un INS-NIR ou un INS-NIA est accepté."),
        # Identity and contact rules, the same on both sides (proclient.core.domain)
        "NIR_FORMAT": _("Le NIR doit compter 15 caractères (13 chiffres et la clé)."),
        "NIR_KEY": _("La clé du NIR ne correspond pas : vérifiez les 15 caractères."),
        "NAME_CHARSET": _(
            "Les noms et prénoms s'écrivent en lettres (accents admis), espaces, traits d'union "
            "et apostrophes, sans autre signe ni caractère invisible : corrigez la saisie."
        ),
        "RELATIONSHIP": _("Choisissez le lien du représentant légal avec le patient."),
        "REPRESENTATIVE_NAME": _("Saisissez le nom et le prénom du représentant légal."),
        "EMAIL": _("L'adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr)."),
        "MOBILE": _(
            "Le numéro de mobile n'est pas valide : seuls les mobiles de France métropolitaine "
            "et des départements d'outre-mer sont acceptés (exemple : 06 12 34 56 78). Sans "
            "mobile français, laissez ce champ vide : l'e-mail suffit."
        ),
        "MOBILE_NOT_MOBILE": _(
            "Ce numéro n'est pas un mobile : les codes d'accès partent par SMS. Sans mobile, "
            "laissez ce champ vide : l'e-mail suffit."
        ),
        # Identity vigilance (proclient.core.identity; ../shared/DOMAIN.md §5)
        # The workstation's outbox of creations recorded offline (proclient.outbox)
        "OUTBOX_TAMPERED": _(
            "Une création enregistrée a été modifiée sur le disque : elle est refusée et ne "
            "sera pas envoyée."
        ),
        "OUTBOX_KEY_MISSING": _(
            "La clé de chiffrement des créations enregistrées est introuvable : les "
            "créations en attente ne peuvent pas être lues sur ce poste."
        ),
        "OUTBOX_UNKNOWN": _("Cette création enregistrée n'existe plus."),
        # Creations captured offline (proclient.core.capture)
        "CAPTURE_INVALID": _(
            "Le consentement enregistré hors connexion n'a pas pu être vérifié (signature, "
            "carte ou date) : il n'est pas pris en compte."
        ),
        "CAPTURE_MISMATCH": _(
            "Le consentement enregistré hors connexion ne correspond pas à cette demande "
            "(patient, choix ou représentant) : il n'est pas pris en compte."
        ),
        "CONSENT_STALE": _(
            "Le consentement a été recueilli hors connexion il y a trop longtemps : recueillez-le "
            "de nouveau auprès du patient."
        ),
        "INSI_DIFFERENCES": _(
            "L'identité donnée par l'INSi diffère de celle de la carte ou de la saisie (nom, "
            "prénom, date de naissance, sexe ou NIR) : vérifiez-la puis confirmez-la ou "
            "abandonnez la création."
        ),
        "WEB_ACCESS_OFFLINE": _(
            "L'accès en ligne ne peut pas être demandé hors connexion : son mot de passe "
            "provisoire ne se remet que sur papier, au moment de la création. Le patient pourra "
            "l'ouvrir lors d'un prochain passage chez un professionnel connecté au service DMP."
        ),
        "CAPTURE_WEB_ACCESS": _(
            "L'accès en ligne ne peut pas être demandé avec une création enregistrée hors "
            "connexion : le mot de passe initial se remet sur papier à la création."
        ),
        "INSI_REQUIRED": _(
            "Cet INS n'a pas été obtenu de l'INSi par vous depuis moins d'une heure : "
            "interrogez l'INSi avant de créer ou réactiver le DMP."
        ),
        "INSI_TRAITS_MISMATCH": _(
            "L'identité envoyée n'est pas celle que l'INSi a donnée pour cet INS : le DMP se "
            "crée avec les traits de l'INSi, sans retouche."
        ),
        "IDENTITY_STATUS": _(
            "Le statut de l'identité ne correspond pas à la pièce d'identité indiquée : "
            "« qualifiée » avec une pièce vue, « récupérée » sans."
        ),
        "DOCUMENT_MINORS_ONLY": _(
            "L'acte de naissance et le livret de famille ne valent que pour un mineur : "
            "choisissez la pièce d'identité du patient."
        ),
        "DOCUMENT_MISSING": _(
            "Indiquez la pièce d'identité vue (ou « aucune ») avant de continuer."
        ),
        "INSI_MISSING": _(
            "L'INSi n'a pas encore confirmé l'identité du patient : pas de DMP sans INS vérifié."
        ),
        "INSI_NONE_CARD": _(
            "L'INSi ne trouve aucune identité pour cette carte : vérifiez les traits avec le "
            "patient et cherchez par les traits (F6), ou arrêtez là (Échap) : pas de DMP sans "
            "identité vérifiée."
        ),
        "INSI_NONE": _(
            "L'INSi ne trouve aucune identité avec ces traits : vérifiez-les sur une pièce "
            "d'identité et corrigez-les, ou arrêtez là (Échap) : pas de DMP sans identité "
            "vérifiée."
        ),
        "INSI_SEVERAL": _(
            "L'INSi trouve plusieurs identités avec ces traits : précisez le lieu de naissance "
            "(la commune, ou le pays pour une naissance à l'étranger), ou arrêtez là (Échap) : "
            "pas de DMP sur une identité douteuse."
        ),
        "TRAITS_INCOMPLETE": _(
            "Pour interroger l'INSi par les traits, il faut le nom de naissance, le premier "
            "prénom, le sexe et la date de naissance."
        ),
        "BIRTHPLACE": _(
            "Le lieu de naissance est un code INSEE de 5 caractères (exemple : 75056 ; 99 et "
            "le code du pays pour l'étranger)."
        ),
        # Protocol
        "IDEMPOTENCY_KEY_REQUIRED": _(
            "La demande n'a pas de clé d'idempotence : mettez proclient à jour."
        ),
        "IDEMPOTENCY_KEY_REUSED": _(
            "Cette demande a déjà été envoyée avec d'autres informations : recommencez la saisie."
        ),
        "IDEMPOTENCY_IN_PROGRESS": _(
            "Cette demande est encore en cours de traitement : attendez quelques secondes puis "
            "réessayez."
        ),
        "VALIDATION": _(
            "La demande est incomplète ou mal formée : vérifiez les informations saisies."
        ),
        "NOT_FOUND": _("Adresse inconnue sur le service DMP : vérifiez l'adresse du service."),
        "REQUEST_TOO_LARGE": _(
            "La demande est trop volumineuse pour le service DMP : vérifiez les informations "
            "saisies ; si cela persiste, mettez proclient à jour."
        ),
        "REQUEST_TOO_COMPLEX": _(
            "La demande contient trop de champs ou trop d'imbrications pour le service DMP : "
            "mettez proclient à jour."
        ),
        "REQUEST_TIMEOUT": _(
            "La demande est arrivée trop lentement au service DMP : vérifiez la connexion puis "
            "réessayez."
        ),
        "SERVICE_BUSY": _(
            "Le service DMP a trop de connexions ouvertes : réessayez dans quelques secondes."
        ),
        "METHOD_NOT_ALLOWED": _(
            "Le service DMP ne connaît pas cette opération : mettez proclient à jour."
        ),
        "INTERNAL": _(
            "Le service DMP a rencontré une erreur interne : réessayez ; si cela persiste, "
            "contactez le support."
        ),
        # Client side
        SERVICE_UNAVAILABLE: _(
            "Le service DMP ne répond pas : vérifiez la connexion puis réessayez."
        ),
        SERVICE_TLS_REFUSED: _(
            "Le service DMP a refusé la connexion sécurisée : vérifiez son adresse ; certains "
            "réseaux (hôtel, lieu public) bloquent ces connexions."
        ),
        SERVICE_TLS: _(
            "Le certificat du service DMP n'est pas reconnu : vérifiez l'adresse du service et "
            "son autorité de certification."
        ),
        "SERVICE_URL": _(
            "L'adresse du service DMP (réglage service.url) doit commencer par https:// : "
            "corrigez le fichier de réglages."
        ),
        "SERVICE_URL_HTTP": _(
            "Le service DMP doit être joint en https:// (http:// n'est admis que sur cet "
            "ordinateur, 127.0.0.1) : corrigez le réglage service.url."
        ),
        "SERVICE_CA": _(
            "Le fichier d'autorité de certification du service DMP (réglage service.ca_bundle) "
            "est introuvable ou illisible : corrigez son chemin."
        ),
        SERVICE_ERROR: _(
            "Le service DMP a renvoyé une réponse inattendue : réessayez ; si cela persiste, "
            "contactez le support."
        ),
    }
    return messages.get(code)
