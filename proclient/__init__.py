"""proclient: open a patient's DMP (Dossier Médical Partagé) from the Carte Vitale."""

__version__ = "0.1.0"
