"""`proclient serve audit verify|export` and `proclient verify --journal DIR` as real commands:
one sentence and the exit code (0 intact, 20 altered, 21 unknown key, 22 unreadable), the
export verified offline without the database, bad input without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proclient.core.settings import Paths
from proclient.server.journal import Journal
from proclient.server.serving import document_signing_path, load_serve_config
from proclient.server.signing_key import load_or_create_signer, own_ca
from proclient.server.storage import Storage

AT = "2026-12-07T10:00:00+00:00"


def proclient(home: Path, *args: str, config: str = "") -> subprocess.CompletedProcess:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PROCLIENT_HOME": str(home), "LANGUAGE": "fr"}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    return subprocess.run(
        [sys.executable, "-m", "proclient.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def service(tmp_path, database_url):
    """A service's database with 15 audit lines and its document-signing folder where
    ``proclient serve`` keeps it (heads at 10 and, at shutdown, 15)."""
    home = tmp_path / "home"
    url = database_url()
    paths = Paths(home / "config", home / "data", home / "log")
    folder = document_signing_path(load_serve_config(paths, database=str(url)))
    signer = load_or_create_signer(folder, own_ca(tmp_path))
    storage = Storage(url)
    storage.initialize()
    storage.journal = Journal(signer, 10)
    for number in range(15):
        with storage.transaction() as conn:
            storage.audit(conn, AT, "pro", "status", f"ref-{number}")
    storage.journal.seal(storage.db)  # as the service at shutdown
    storage.journal.sign_head(storage.db)
    yield home, str(url), storage, folder
    storage.close()


def one_sentence(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_serve_audit_verify_says_intact_then_names_the_edited_entry(service):
    home, url, storage, folder = service
    done = proclient(home, "serve", "audit", "verify", "--database", url)
    assert done.returncode == 0, done.stderr
    assert one_sentence(done.stdout).startswith("Journal intact : 15 entrée(s)")
    with storage.transaction() as conn:
        conn.execute("UPDATE audit SET action = 'creation' WHERE seq = 4")
    done = proclient(home, "serve", "audit", "verify", "--database", url)
    assert done.returncode == 20
    assert one_sentence(done.stderr) == "Journal altéré : l'entrée 4 a été modifiée."


def test_an_export_verifies_offline_and_a_changed_export_does_not(service, tmp_path):
    home, url, storage, folder = service
    export = tmp_path / "export"
    done = proclient(home, "serve", "audit", "export", str(export), "--database", url)
    assert done.returncode == 0, done.stderr
    assert "15 entrée(s), 2 tête(s) signée(s)" in done.stdout
    assert sorted(path.name for path in export.iterdir()) == [
        "certificates.pem",
        "entries.jsonl",
        "heads.jsonl",
    ]
    assert (export / "entries.jsonl").stat().st_mode & 0o077 == 0
    storage.close()  # offline: the database is not needed

    other = tmp_path / "auditor"  # another machine, no service folder
    done = proclient(other, "verify", "--journal", str(export))
    assert done.returncode == 0, done.stderr
    assert "Clés prises dans l'export" in one_sentence(done.stdout)

    trusted = folder / "certificates.pem"
    config = f'[verify]\nservice_certificates = "{trusted}"\n'
    done = proclient(other, "verify", "--journal", str(export), config=config)
    assert done.returncode == 0, done.stderr
    assert one_sentence(done.stdout) == (
        "Journal intact : 15 entrée(s) chaînée(s), signées jusqu'à la dernière."
    )

    stranger = load_or_create_signer(tmp_path / "stranger", own_ca(tmp_path / "home"))
    (tmp_path / "stranger.pem").write_bytes(stranger.bundle_pem())
    strange = f'[verify]\nservice_certificates = "{tmp_path / "stranger.pem"}"\n'
    done = proclient(other, "verify", "--journal", str(export), config=strange)
    assert done.returncode == 21
    assert "clé inconnue" in one_sentence(done.stderr)

    lines = (export / "entries.jsonl").read_text().splitlines()
    entry = json.loads(lines[8])
    entry["patient_ref"] = "someone-else"
    lines[8] = json.dumps(entry)
    (export / "entries.jsonl").write_text("\n".join(lines) + "\n")
    done = proclient(other, "verify", "--journal", str(export), config=config)
    assert done.returncode == 20
    assert one_sentence(done.stderr) == "Journal altéré : l'entrée 9 a été modifiée."


@pytest.mark.parametrize(
    ("files", "sentence"),
    [
        (None, "n'est pas un dossier"),
        ({}, "le fichier entries.jsonl manque"),
        ({"entries.jsonl": "", "heads.jsonl": ""}, "Journal intact : il est vide."),
        ({"entries.jsonl": "{not json\n", "heads.jsonl": ""}, "la ligne 1 de entries.jsonl"),
        ({"entries.jsonl": '{"seq": 1}\n', "heads.jsonl": ""}, "la ligne 1 de entries.jsonl"),
        ({"entries.jsonl": "[1, 2]\n", "heads.jsonl": ""}, "la ligne 1 de entries.jsonl"),
        ({"entries.jsonl": b"\xff\xfe\x00garbage", "heads.jsonl": ""}, "n'est pas du texte"),
        ({"entries.jsonl": "", "heads.jsonl": '{"seq": "x"}\n'}, "la ligne 1 de heads.jsonl"),
        (
            {
                "entries.jsonl": "",
                "heads.jsonl": '{"seq": 1, "hash": "a", "at": "b", "key_id": "c", '
                '"signature": "zz"}\n',
            },
            "la ligne 1 de heads.jsonl",
        ),
        (
            {"entries.jsonl": "", "heads.jsonl": "", "certificates.pem": "garbage"},
            "certificates.pem ne contient pas de certificats lisibles",
        ),
    ],
)
def test_bad_input_to_verify_journal_is_one_sentence(tmp_path, files, sentence):
    directory = tmp_path / "export"
    if files is not None:
        directory.mkdir()
        for name, content in files.items():
            path = directory / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    done = proclient(tmp_path / "home", "verify", "--journal", str(directory))
    text = done.stdout if done.returncode == 0 else done.stderr
    assert sentence in one_sentence(text)
    assert done.returncode == (0 if "intact" in sentence else 22)
