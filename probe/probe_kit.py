"""What the outside probe and the crash run share: a PKI of their own, fictitious patients and
the INSi register file that names them, `proclient serve` as a subprocess, an HTTPS client,
raw TLS sockets, and a look into the service's database after the fact.

Nothing here imports proclient: the service is reached the way any other client would reach
it (HTTPS on loopback), and it is started the way an operator starts it (the `proclient
serve` command, in a throw-away PROCLIENT_HOME). The professional certificates are shaped as
the service expects a CPS-like authentication certificate (CN = idNat_PS, SN, GN, title,
O = structure, private extension 1.2.250.1.71.1.2.7 = the G15 profession code as a DER
UTF8String, RSA 2048, digitalSignature, clientAuth); the challenge is signed with RSA
PKCS#1 v1.5 and SHA-256, as a CPS card does.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import random
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[1]

OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_TEST = "1.2.250.1.213.1.4.10"
OID_DEMO = "1.2.250.1.213.1.4.11"
OID_PROFESSION_CODE = x509.ObjectIdentifier("1.2.250.1.71.1.2.7")

PROBLEM_JSON = "application/problem+json"


# --- patients ----------------------------------------------------------------------------------


def nir_key(body: str) -> str:
    """The two-digit key of a 13-digit NIR body (97 - body mod 97)."""
    return f"{97 - int(body) % 97:02d}"


@dataclass(frozen=True)
class Person:
    """A fictitious patient as INSi knows them: birth name and given names in upper case
    without accents (the service creates DMPs with INSi's traits only)."""

    nir: str
    birth_date: str  # AAAAMMJJ
    sex: str  # M or F
    last_name: str
    first_name: str  # the given names, joined by one space

    def creation(self, oid: str, web: dict | None = None) -> dict:
        """The body of POST /v1/dmp for this person under ``oid`` (INSi's traits: the
        service's gate also wants a recent INSi answer to the same professional)."""
        body: dict = {
            "patient": {
                "ins": {"value": self.nir, "oid": oid},
                "last_name": self.last_name,
                "first_name": self.first_name,
                "birth_date": self.birth_date,
                "sex": self.sex,
            },
            "consent": {"creation": True, "samu_access": True, "break_glass_access": True},
        }
        if web is not None:
            body["web_access"] = web
        return body

    def card(self) -> dict:
        """The body of POST /v1/insi/card: this person as read from their Carte Vitale."""
        return {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "birth_date": self.birth_date,
            "nir": self.nir,
            "rank": 1,
        }

    def insi_identity(self, oid: str) -> dict:
        """This person as INSi answers them (an entry of a ``--insi-register`` file)."""
        return {
            "ins": {"value": self.nir, "oid": oid},
            "history": [],
            "traits": {
                "birth_name": self.last_name,
                "given_names": self.first_name.split(),
                "sex": self.sex,
                "birth_date": self.birth_date,
                "birthplace": "75056",
            },
        }

    def web(self) -> dict:
        """Online-access channels: an email and a French mobile."""
        first = self.first_name.split()[0] if self.first_name else "patient"
        return {
            "email": f"{first.lower()}.{self.last_name.lower().replace(' ', '')}@exemple.fr",
            "mobile": "06 12 34 56 78",
        }

    def secrets(self) -> list[str]:
        """What must never come back in an error body nor reach the service's log."""
        return [self.nir, self.last_name, self.first_name]


class People:
    """Fictitious adults with well-formed NIRs (born in Paris, 1950-1999) that agree with their
    birth date and sex, and made-up names of upper-case letters only (INSi's form; easy to spot
    if echoed). Unique within one generator."""

    CONSONANTS = "BCDFGHJKLMNPRSTVZ"
    VOWELS = "AEIOU"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._used: set[str] = set()

    def _word(self, syllables: int) -> str:
        rng = self._rng
        return "".join(
            rng.choice(self.CONSONANTS) + rng.choice(self.VOWELS) for _ in range(syllables)
        )

    def nir(self) -> tuple[str, str, str]:
        """(NIR, birth date, sex) not given before."""
        rng = self._rng
        while True:
            sex = rng.choice("12")
            year, month = rng.randint(50, 99), rng.randint(1, 12)
            body = f"{sex}{year:02d}{month:02d}75056{rng.randint(1, 999):03d}"
            nir = body + nir_key(body)
            if nir not in self._used:
                self._used.add(nir)
                birth = f"19{year:02d}{month:02d}{rng.randint(1, 28):02d}"
                return nir, birth, "M" if sex == "1" else "F"

    def person(self) -> Person:
        nir, birth, sex = self.nir()
        return Person(nir, birth, sex, self._word(4), self._word(3))

    def pool(self, count: int) -> list[Person]:
        """``count`` people not given before (those of an INSi register file)."""
        return [self.person() for _ in range(count)]


def write_register(path: Path, people: list[Person], oid: str) -> Path:
    """The ``proclient serve --insi-register`` file naming ``people`` under ``oid``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([p.insi_identity(oid) for p in people]), encoding="utf-8")
    return path


# --- PKI ---------------------------------------------------------------------------------------


def luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return str((10 - total % 10) % 10)


def id_nat(number: int) -> str:
    """An idNat_PS shaped like a test card's: "8" + an 11-digit RPPS number with its key."""
    rpps = f"9997{number:06d}"
    return "8" + rpps + luhn_digit(rpps)


def der_utf8string(text: str) -> bytes:
    data = text.encode()
    if len(data) >= 0x80:
        raise ValueError("short strings only")
    return bytes([0x0C, len(data)]) + data


@dataclass
class Professional:
    id_nat: str
    last_name: str
    first_name: str
    profession_code: str
    structure: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, nonce: bytes) -> bytes:
        return self.key.sign(nonce, padding.PKCS1v15(), hashes.SHA256())


PROFESSION_LABELS = {"10": "Médecin", "21": "Pharmacien", "60": "Infirmier"}


def _name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def _usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name((NameOID.COUNTRY_NAME, "FR"), (NameOID.COMMON_NAME, name))
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(sign_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def _builder(self, subject: x509.Name, public_key, start: datetime, end: datetime):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )

    def professional(
        self,
        number: int,
        last_name: str,
        first_name: str,
        profession_code: str,
        structure: str,
        *,
        expired: bool = False,
    ) -> Professional:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        nat = id_nat(number)
        subject = _name(
            (NameOID.COUNTRY_NAME, "FR"),
            (NameOID.ORGANIZATION_NAME, structure),
            (NameOID.TITLE, PROFESSION_LABELS.get(profession_code, "Professionnel")),
            (NameOID.COMMON_NAME, nat),
            (NameOID.SURNAME, last_name),
            (NameOID.GIVEN_NAME, first_name),
        )
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=30), now - timedelta(days=1))
            if expired
            else (now - timedelta(hours=1), now + timedelta(days=30))
        )
        certificate = (
            self._builder(subject, key.public_key(), start, end)
            .add_extension(_usage(sign_certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .add_extension(
                x509.UnrecognizedExtension(OID_PROFESSION_CODE, der_utf8string(profession_code)),
                False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return Professional(
            nat, last_name, first_name, profession_code, structure, key, certificate
        )

    def server(self, hosts: list[str]) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) of a TLS server certificate for ``hosts``."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.now(UTC)
        certificate = (
            self._builder(
                _name((NameOID.COMMON_NAME, hosts[0])),
                key.public_key(),
                now - timedelta(hours=1),
                now + timedelta(days=30),
            )
            .add_extension(x509.SubjectAlternativeName(names), False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass
class Pki:
    """The service's TLS certificate and the professionals' CA, all made by the probe."""

    directory: Path
    ca: CertificateAuthority
    ca_path: Path  # trusted for professionals, and for the service's TLS certificate
    server_cert: Path
    server_key: Path
    professionals: list[Professional]

    @classmethod
    def create(cls, directory: Path, count: int = 3) -> Pki:
        directory.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority.create("outside probe CA")
        ca_path = directory / "ca.pem"
        ca_path.write_bytes(ca.pem)
        cert_pem, key_pem = ca.server(["127.0.0.1", "localhost"])
        server_cert, server_key = directory / "server.pem", directory / "server.key"
        server_cert.write_bytes(cert_pem)
        write_private(server_key, key_pem)
        people = [
            ("PROBEPHARMA", "Alice", "21", "Pharmacie du Probe"),
            ("PROBEINFIRM", "Bruno", "60", "Cabinet infirmier du Probe"),
            ("PROBEMEDECIN", "Chloe", "10", "Cabinet du Probe"),
            ("PROBEPHARMB", "Denis", "21", "Pharmacie de la Sonde"),
        ]
        professionals = [
            ca.professional(index + 1, *people[index % len(people)]) for index in range(count)
        ]
        return cls(directory, ca, ca_path, server_cert, server_key, professionals)

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        return context


# --- HTTPS client ----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float

    def json(self) -> dict | list | None:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        document = self.json()
        return document.get("code") if isinstance(document, dict) else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def brief(self) -> str:
        """Status and code, for a report line."""
        return f"{self.status} {self.code or ''}".strip()


class LoginFailed(Exception):
    def __init__(self, step: str, answer: Answer) -> None:
        super().__init__(f"{step}: {answer.brief()}")
        self.answer = answer


class Client:
    """An HTTPS client of the service, its connections bound to ``source`` (any 127.x.y.z:
    the service counts rate limits and connections per client address)."""

    def __init__(
        self,
        base_url: str,
        context: ssl.SSLContext,
        source: str = "127.0.0.1",
        timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url
        self.source = source
        self.http = httpx.Client(
            base_url=base_url,
            transport=httpx.HTTPTransport(verify=context, local_address=source, retries=0),
            timeout=timeout,
        )
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        content: bytes | None = None,
        headers: dict | None = None,
        token: str | None = None,
        key: str | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {bearer}"
        if key is not None:
            sent["Idempotency-Key"] = key
        if json_body is not None:
            content = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        start = time.monotonic()
        response = self.http.request(method, path, content=content, headers=sent)
        return Answer(
            response.status_code, response.headers, response.content, time.monotonic() - start
        )

    def post(self, path: str, body: object = None, **options) -> Answer:
        return self.request("POST", path, json_body=body, **options)

    def look_up(self, person: Person) -> Answer:
        """INSi look-up by ``person``'s card, as a workstation asks before a creation."""
        return self.post("/v1/insi/card", person.card())

    def challenge(self) -> Answer:
        return self.request("POST", "/v1/auth/challenge", token="")

    def session(self, challenge_id: str, certificate_pem: str, signature: bytes | str) -> Answer:
        if isinstance(signature, bytes):
            signature = base64.b64encode(signature).decode()
        body = {
            "challenge_id": challenge_id,
            "certificate": certificate_pem,
            "signature": signature,
        }
        return self.request("POST", "/v1/auth/session", json_body=body, token="")

    def attempt(self, pro: Professional, *, certificate_pem: str | None = None, bad: bool = False):
        """One authentication: a challenge, then the session with ``pro``'s signature (random
        bytes when ``bad``). Returns the session answer, or the challenge's when refused."""
        challenge = self.challenge()
        if challenge.status != 200:
            return challenge
        document = challenge.json()
        assert isinstance(document, dict)
        nonce = base64.b64decode(document["nonce"])
        signature = os.urandom(256) if bad else pro.sign(nonce)
        return self.session(
            document["challenge_id"], certificate_pem or pro.certificate_pem, signature
        )

    def login(self, pro: Professional) -> str:
        answer = self.attempt(pro)
        if answer.status != 200:
            raise LoginFailed("login", answer)
        document = answer.json()
        assert isinstance(document, dict)
        self.token = document["token"]
        return self.token


def drop_header_from(headers: dict, name: str) -> dict:
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


# --- raw TLS ---------------------------------------------------------------------------------


def tls_socket(
    port: int,
    context: ssl.SSLContext,
    source: str = "127.0.0.1",
    timeout: float = 10.0,
    host: str = "127.0.0.1",
) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict | None:
        try:
            document = json.loads(self.body)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None


def raw_request(
    port: int,
    context: ssl.SSLContext,
    source: str,
    method: str,
    path: str,
    headers: list[bytes],
    body: bytes = b"",
    timeout: float = 10.0,
) -> RawAnswer | None:
    """One request written byte for byte (header values no HTTP library would send), and
    its answer (None when the service closes without one)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", *headers]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    with tls_socket(port, context, source, timeout) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        return read_answer(sock, timeout)


def read_answer(sock: socket.socket, timeout: float = 10.0, data: bytes = b"") -> RawAnswer | None:
    """One HTTP/1.1 answer from ``sock``, ``data`` being its first bytes if already read (None
    when the connection ends before one)."""
    sock.settimeout(timeout)
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            chunk = b""
        if not chunk:
            return None
        data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    headers = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            break
        if not chunk:
            break
        body += chunk
    return RawAnswer(status, headers, body[:length] if length else body)


# --- the service as a subprocess ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceFailed(Exception):
    pass


@dataclass
class Service:
    """`proclient serve` in its own PROCLIENT_HOME, with the probe's certificates, on one port
    of 127.0.0.1; ``limits`` go to the [server] table of its config.toml. Its output is
    appended to ``log_path`` across restarts."""

    home: Path
    database: str
    mode: str
    pki: Pki
    limits: dict = field(default_factory=dict)
    register: Path | None = None  # --insi-register FILE (None: not passed on this start)
    port: int = field(default_factory=free_port)
    python: str = sys.executable
    root: Path = ROOT  # the checkout whose proclient runs (its directory leads sys.path)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "service.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _write_config(self) -> None:
        config = self.home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        lines = ["[server]"]
        for name, value in (self.limits or {}).items():
            lines.append(f"{name} = {json.dumps(value)}")
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, timeout: float = 60.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._write_config()
        env = {**os.environ, "PROCLIENT_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(self.root), env.get("PYTHONPATH", "")) if part
        )
        env.pop("PROCLIENT_SERVER_DATABASE", None)
        command = [
            self.python,
            "-m",
            "proclient.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database",
            self.database,
            "--cert",
            str(self.pki.server_cert),
            "--key",
            str(self.pki.server_key),
            "--trusted-ca",
            str(self.pki.ca_path),
            "--mode",
            self.mode,
        ]
        if self.register is not None:
            command += ["--insi-register", str(self.register)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        context = self.pki.client_context()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceFailed(
                    f"proclient serve ended with status {self.process.returncode}: "
                    + self.log_tail()
                )
            try:
                response = httpx.get(f"{self.base_url}/v1/health", verify=context, timeout=2)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise ServiceFailed("proclient serve never answered /v1/health: " + self.log_tail())

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return " | ".join(self.log_text().splitlines()[-lines:])

    def kill9(self) -> None:
        """SIGKILL, as a crashing host would: no shutdown, no flush."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def audit_verify(self) -> tuple[int, str]:
        """`proclient serve audit verify` on the service's database, trusting the
        document-signing certificates it keeps beside its TLS key: (exit code, sentence)."""
        env = {**os.environ, "PROCLIENT_HOME": str(self.home)}
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(self.root), env.get("PYTHONPATH", "")) if part
        )
        env.pop("PROCLIENT_SERVER_DATABASE", None)
        bundle = self.pki.server_key.parent / "document-signing" / "certificates.pem"
        done = subprocess.run(
            [self.python, "-m", "proclient.cli", "serve", "audit", "verify"]
            + ["--database", self.database, "--certificates", str(bundle)],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.returncode, (done.stdout + done.stderr).strip()

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the service process, in kB (Linux /proc)."""
        found: dict[str, int] = {}
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return found
        for line in text.splitlines():
            name, _colon, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
        return found


# --- the service's database, seen from outside -------------------------------------------------


class ServiceDatabase:
    """A fresh database for one run (a SQLite file, or a PostgreSQL schema of its own reached
    through the URL's search_path), and plain SQL reads of it after the fact."""

    def __init__(
        self, kind: str, url: str, *, path: Path | None, admin: str | None, schema: str | None
    ):
        self.kind = kind
        self.url = url
        self._path = path
        self._admin = admin
        self._schema = schema

    @classmethod
    def fresh(cls, kind: str, directory: Path, postgres_url: str | None = None) -> ServiceDatabase:
        if kind == "sqlite":
            path = directory / f"dmp-{uuid.uuid4().hex[:8]}.sqlite3"
            return cls(kind, f"sqlite:///{path}", path=path, admin=None, schema=None)
        if kind != "postgresql":
            raise ValueError(kind)
        admin = postgres_url or os.environ.get("PROCLIENT_TEST_POSTGRES_URL")
        if not admin:
            raise ServiceFailed(
                "PostgreSQL: set PROCLIENT_TEST_POSTGRES_URL (source scripts/services/postgres.sh) "
                "or pass --postgres-url"
            )
        import psycopg

        schema = f"probe_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in admin else "?"
        url = f"{admin}{separator}options={quote(f'-csearch_path={schema}', safe='')}"
        return cls(kind, url, path=None, admin=admin, schema=schema)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.kind == "sqlite":
            assert self._path is not None
            conn = sqlite3.connect(self._path, timeout=30)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {self._schema}")
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def execute(self, sql: str, params: tuple = ()) -> None:
        if self.kind == "sqlite":
            assert self._path is not None
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            try:
                conn.execute(sql, params)
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {self._schema}")
            conn.execute(sql.replace("?", "%s"), params)

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self._admin, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE")

    def describe(self) -> str:
        return "SQLite" if self.kind == "sqlite" else f"PostgreSQL (schema {self._schema})"


def raise_open_files_limit() -> int:
    """This process's soft RLIMIT_NOFILE raised to the hard one; returns the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def password_in(document: object) -> str | None:
    """The initial password of an answer (at the top or under web_access), if any."""
    if not isinstance(document, dict):
        return None
    for holder in (document, document.get("web_access")):
        if isinstance(holder, dict):
            for name in ("initial_password", "password"):
                value = holder.get(name)
                if isinstance(value, str) and value:
                    return value
    return None
