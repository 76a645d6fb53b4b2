"""``proclient verify --journal DIR``: an export of the service's audit journal (``proclient
serve audit export``) verified offline, without the database (core/proof/journal.py).

Trust: the service's certificates the settings name (``[verify] service_certificates``); else
the certificates the export carries, and the sentence says so (an export's own certificates
prove only that the journal was not changed since it was signed by *that* key: compare the key
id with the service's). Bad input (no such folder, missing or garbled files) is one sentence,
outcome "unreadable" (exit 22).
"""

from __future__ import annotations

import json
from pathlib import Path

from proclient.core.i18n import _
from proclient.core.proof.journal import (
    CERTIFICATES_FILE,
    ENTRIES_FILE,
    HEADS_FILE,
    Entry,
    Head,
    verify_journal,
)
from proclient.core.proof.verdict import Verdict

MAX_FILE_BYTES = 2 * 1024**3  # a journal of millions of lines, not a disk filled by mistake


class _Unreadable(Exception):
    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def _lines(path: Path, parse, what: str) -> list:
    if not path.is_file():
        raise _Unreadable(_("Export illisible : le fichier {name} manque.", name=path.name))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _Unreadable(_("Export illisible : le fichier {name} est trop gros.", name=path.name))
    items = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    items.append(parse(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    raise _Unreadable(
                        _(
                            "Export illisible : la ligne {line} de {name} n'est pas {what}.",
                            line=number,
                            name=path.name,
                            what=what,
                        )
                    ) from None
    except UnicodeDecodeError:
        raise _Unreadable(
            _("Export illisible : le fichier {name} n'est pas du texte.", name=path.name)
        ) from None
    except OSError:
        raise _Unreadable(
            _("Export illisible : le fichier {name} ne peut pas être lu.", name=path.name)
        ) from None
    return items


def _certificates(path: Path) -> list:
    from cryptography import x509

    try:
        data = path.read_bytes()
    except OSError:
        raise _Unreadable(
            _("Export illisible : le fichier {name} ne peut pas être lu.", name=path.name)
        ) from None
    if not data.strip():
        return []
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise _Unreadable(
            _(
                "Export illisible : {name} ne contient pas de certificats lisibles.",
                name=path.name,
            )
        ) from None


def verify_export(directory: Path, trusted: list | None = None) -> Verdict:
    """The export in ``directory`` against ``trusted`` certificates (None: the export's own,
    said in the sentence)."""
    try:
        if not directory.is_dir():
            raise _Unreadable(_("Export illisible : {path} n'est pas un dossier.", path=directory))
        entries = _lines(directory / ENTRIES_FILE, Entry.from_json, _("une entrée du journal"))
        heads = _lines(directory / HEADS_FILE, Head.from_json, _("une tête signée"))
        own = directory / CERTIFICATES_FILE
        certificates = (
            trusted if trusted is not None else (_certificates(own) if own.is_file() else [])
        )
    except _Unreadable as problem:
        return Verdict("unreadable", problem.sentence, {"problem": "unreadable"})
    verdict = verify_journal(entries, heads, certificates)
    if trusted is None and heads:
        return Verdict(
            verdict.outcome,
            verdict.sentence
            + " "
            + _(
                "(Clés prises dans l'export lui-même : comparez {keys} avec la clé du service.)",
                keys=", ".join(sorted({head.key_id for head in heads})),
            ),
            {**verdict.details, "trust": "export"},
        )
    return verdict
