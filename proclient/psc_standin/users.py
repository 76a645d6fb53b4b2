"""The professionals the stand-in knows, and their user-info in PSC's shapes.

The user-info's shape follows what ANS publishes for Pro Santé Connect: the example user-info
of its industrial portal (industriels.esante.gouv.fr, « Pro Santé Connect » > « userinfo »),
as quoted in ANS's own open-source relying parties (ansforge's DrimBox and context-sharing
API models: ``SubjectRefPro`` with ``codeCivilite`` and ``exercices``, each exercice with
``codeProfession``, ``codeCategorieProfessionnelle``, ``codeCiviliteDexercice``,
``nomDexercice``, ``prenomDexercice``, ``codeTypeSavoirFaire``, ``codeSavoirFaire`` and
``activities``, each activity a workplace with ``raisonSocialeSite``, ``codeModeExercice``,
``codeSecteurDactivite``…), and the top-level claims beside it (``SubjectNameID``,
``preferred_username``, ``given_name``, ``family_name``, ``SubjectOrganization``,
``SubjectRole`` as ``"<profession code>^1.2.250.1.213.1.1.5.5"``, ``Palier_Authentification``,
``UITVersion``, ``PSI_Locale``, ``otherIds``).

Note the spelling PSC uses: ``nomDexercice`` / ``prenomDexercice`` (lower-case ``e`` after the
``D``), not ``nomDExercice``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The OID of the profession codes (TRE_G15-ProfessionSante) in SubjectRole, as PSC writes it.
PROFESSION_OID = "1.2.250.1.213.1.1.5.5"
# The authentication level PSC reports for a CPS or e-CPS sign-in (« palier 3 »).
AUTHENTICATION_LEVEL = "APPPRIP3^1.2.250.1.213.1.5.1.1.1"
PSI_LOCALE = "1.2.250.1.213.1.3.1.1"


@dataclass(frozen=True)
class StandInUser:
    """A professional known to the stand-in (their e-CPS is « activated »)."""

    national_id: str  # "899700024450": RPPS with the prefix 8 (or an ADELI one)
    family_name: str
    given_name: str
    profession_code: str  # "21" pharmacien, "60" infirmier, "10" médecin
    organisation: str = ""  # the workplace's name

    @property
    def professional_category(self) -> str:
        """``codeCategorieProfessionnelle``: "C" (civil) for every demo professional."""
        return "C"


def _activity(user: StandInUser) -> dict[str, Any]:
    """One workplace (« situation d'exercice ») as PSC lists it under ``activities``."""
    return {
        "codeModeExercice": "L",  # libéral
        "codeSecteurDactivite": "SA07",  # cabinet individuel
        "codeSectionPharmacien": "",
        "codeRole": "",
        "codeGenreActivite": "GENR01",
        "numeroSiretSite": "",
        "numeroSirenSite": "",
        "numeroFinessSite": "",
        "numeroFinessetablissementJuridique": "",
        "identifiantTechniqueDeLaStructure": "",
        "raisonSocialeSite": user.organisation,
        "enseigneCommercialeSite": "",
        "complementDestinataire": "",
        "complementPointGeographique": "",
        "numeroVoie": "",
        "indiceRepetitionVoie": "",
        "codeTypeDeVoie": "",
        "libelleVoie": "",
        "mentionDistribution": "",
        "bureauCedex": "",
        "codePostal": "",
        "codeCommune": "",
        "codePays": "",
        "telephone": "",
        "telephone2": "",
        "telecopie": "",
        "adresseEMail": "",
        "codeDepartement": "",
        "ancienIdentifiantDeLaStructure": "",
        "autoriteDenregistrement": "",
    }


def userinfo(user: StandInUser, sub: str) -> dict[str, Any]:
    """The user-info document of ``user`` (``sub`` as in their tokens)."""
    activities = [_activity(user)] if user.organisation else []
    return {
        "sub": sub,
        "preferred_username": user.national_id,
        "SubjectNameID": user.national_id,
        "family_name": user.family_name,
        "given_name": user.given_name,
        "email_verified": False,
        "SubjectOrganization": user.organisation,
        "SubjectOrganizationID": "",
        "SubjectRole": [f"{user.profession_code}^{PROFESSION_OID}"],
        "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4" if user.organisation else "",
        "Palier_Authentification": AUTHENTICATION_LEVEL,
        "UITVersion": "1.0",
        "PSI_Locale": PSI_LOCALE,
        "otherIds": [{"identifiant": user.national_id, "origine": "RPPS", "qualite": 1}],
        "SubjectRefPro": {
            "codeCivilite": "",
            "exercices": [
                {
                    "codeProfession": user.profession_code,
                    "codeCategorieProfessionnelle": user.professional_category,
                    "codeCiviliteDexercice": "",
                    "nomDexercice": user.family_name,
                    "prenomDexercice": user.given_name,
                    "codeTypeSavoirFaire": "",
                    "codeSavoirFaire": "",
                    "activities": activities,
                }
            ],
        },
    }
