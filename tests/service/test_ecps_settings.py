"""``[server]``'s Pro Santé Connect keys reach the service (config.toml → ServeConfig →
ServerSettings.psc), with the secret from a 0600 file or the environment, never shown."""

from __future__ import annotations

import logging
import os
import ssl

import pytest

from proclient.core.domain import DomainError
from proclient.core.settings import Paths
from proclient.server import serving
from proclient.server.psc_config import SECRET_ENV

DISCOVERY = "https://psc.example/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"


def _paths(tmp_path, text: str) -> Paths:
    config_file = tmp_path / "config" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[server]\n" + text, encoding="utf-8")
    return Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)


def test_the_psc_keys_reach_the_service(tmp_path, pki, caplog):
    caplog.set_level(logging.DEBUG)
    secret_file = tmp_path / "psc-secret"
    secret_file.write_text("s3cr3t-of-the-registration\n", encoding="utf-8")
    os.chmod(secret_file, 0o600)
    paths = _paths(
        tmp_path,
        f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "proclient-test"\n'
        f'psc_client_secret_file = "{secret_file}"\npsc_ca = "{pki.ca_cert_path}"\n'
        "psc_timeout = 4.5\n",
    )
    config = serving.load_serve_config(
        paths, trusted_ca=pki.ca_cert_path, plain_http=True, database=str(tmp_path / "d.db")
    )
    app = serving.build_app(config)
    try:
        psc = app.state.settings.psc
        assert (psc.discovery_url, psc.client_id, psc.timeout) == (DISCOVERY, "proclient-test", 4.5)
        assert psc.client_secret == "s3cr3t-of-the-registration"
        assert psc.ca == pki.ca_cert_path
        assert "s3cr3t" not in repr(config) + repr(app.state.settings)
    finally:
        app.state.storage.close()
        app.state.psc.close()
    assert "s3cr3t" not in caplog.text


def test_the_environment_gives_the_secret(tmp_path, pki, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "from-the-environment")
    paths = _paths(tmp_path, f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n')
    config = serving.load_serve_config(paths)
    assert config.psc is not None and config.psc.client_secret == "from-the-environment"


def test_without_psc_settings_no_e_cps(tmp_path):
    assert serving.load_serve_config(_paths(tmp_path, "")).psc is None


def test_a_client_certificate_instead_of_a_secret(tmp_path, tls):
    paths = _paths(
        tmp_path,
        f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n'
        f'psc_client_certificate = "{tls.cert}"\npsc_client_key = "{tls.key}"\n',
    )
    psc = serving.load_serve_config(paths).psc
    assert psc is not None and psc.client_secret is None
    assert (psc.client_certificate, psc.client_key) == (tls.cert, tls.key)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('psc_discovery_url = "http://psc.example/x"\npsc_client_id = "c"\n', "https://"),
        (f'psc_discovery_url = "{DISCOVERY}"\n', "server.psc_client_id"),
        (f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n', "psc_client_secret_file"),
        (
            f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n'
            'psc_client_secret_file = "/nonexistent/secret"\n',
            "/nonexistent/secret",
        ),
        ("psc_timeout = 0\n", "server.psc_timeout"),
    ],
)
def test_wrong_psc_settings_are_refused_with_one_sentence(tmp_path, text, named):
    with pytest.raises(DomainError) as refused:
        serving.load_serve_config(_paths(tmp_path, text))
    assert named in refused.value.message


def test_a_secret_file_readable_by_others_is_refused(tmp_path):
    secret_file = tmp_path / "psc-secret"
    secret_file.write_text("s3cr3t", encoding="utf-8")
    os.chmod(secret_file, 0o644)
    paths = _paths(
        tmp_path,
        f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n'
        f'psc_client_secret_file = "{secret_file}"\n',
    )
    with pytest.raises(DomainError) as refused:
        serving.load_serve_config(paths)
    assert "chmod 600" in refused.value.message
    assert "s3cr3t" not in refused.value.message


def _client_certificate_config(tmp_path, tls, pki, cert, key):
    paths = _paths(
        tmp_path,
        f'psc_discovery_url = "{DISCOVERY}"\npsc_client_id = "c"\n'
        f'psc_client_certificate = "{cert}"\npsc_client_key = "{key}"\n'
        f'psc_ca = "{tls.ca_bundle}"\n',
    )
    return serving.load_serve_config(
        paths, trusted_ca=pki.ca_cert_path, plain_http=True, database=str(tmp_path / "d.db")
    )


def test_a_client_certificate_is_presented_by_the_psc_client(tmp_path, tls, pki, monkeypatch):
    """mTLS: the PSC client loads the certificate and key it will present (the stand-in
    does not ask for one: its TLS handshake with a certificate is not tested here)."""
    loaded = []
    load_cert_chain = ssl.SSLContext.load_cert_chain

    def spy(context, certfile, keyfile=None, password=None):
        loaded.append((certfile, keyfile))
        return load_cert_chain(context, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    app = serving.build_app(_client_certificate_config(tmp_path, tls, pki, tls.cert, tls.key))
    try:
        assert app.state.psc is not None
        assert loaded == [(str(tls.cert), str(tls.key))]
    finally:
        app.state.storage.close()
        app.state.psc.close()


def test_a_client_key_not_of_the_certificate_is_one_sentence(tmp_path, tls, pki):
    from proclient.core.domain import DomainError

    _other_cert, other_key = tls.issue(tmp_path, "127.0.0.1")
    config = _client_certificate_config(tmp_path, tls, pki, tls.cert, other_key)
    with pytest.raises(DomainError) as refused:
        serving.build_app(config)
    assert refused.value.code == "SERVER_CONFIG"
    assert "server.psc_client_key" in refused.value.message
