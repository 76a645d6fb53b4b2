"""The stand-in's material (client registration, signing key) and its listener."""

from __future__ import annotations

import stat

import pytest

from proclient.psc_standin import PscStandIn, ensure_standin_material, start_standin
from proclient.psc_standin.material import load_signing_key
from tests.psc_support import DEFAULT_USERS


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_material_is_private_and_reused(tmp_path):
    directory = tmp_path / "psc"
    first = ensure_standin_material(directory)

    assert first.client_id == "proclient-demo"
    assert len(first.client_secret) >= 40
    assert first.client_secret not in repr(first)
    for path in directory.iterdir():
        if not path.name.startswith("."):
            assert mode(path) == 0o600, path
    assert mode(directory) == 0o700
    assert first.client_secret_path.read_text() == first.client_secret
    kid = load_signing_key(first.signing_key_path).kid

    again = ensure_standin_material(directory)
    assert again == first
    assert load_signing_key(again.signing_key_path).kid == kid


def test_broken_material_is_made_again(tmp_path):
    directory = tmp_path / "psc"
    first = ensure_standin_material(directory)
    first.signing_key_path.write_text("not a key")
    (directory / "client.json").write_text("{}")

    again = ensure_standin_material(directory)
    assert again.client_secret != first.client_secret
    assert load_signing_key(again.signing_key_path).is_private
    assert mode(again.signing_key_path) == 0o600


def test_the_kid_is_the_key_thumbprint(tmp_path):
    material = ensure_standin_material(tmp_path / "psc")
    key = material.signing_key()
    assert key.kid == key.thumbprint()
    assert key.as_dict(private=False)["alg"] == "RS256"


def test_start_refuses_a_non_loopback_host(tmp_path, psc_tls):
    cert, key, _ = psc_tls
    standin = PscStandIn(ensure_standin_material(tmp_path / "psc"), DEFAULT_USERS)
    with pytest.raises(ValueError, match="loopback"):
        start_standin(standin, cert, key, host="0.0.0.0")


def test_start_then_stop(tmp_path, psc_tls):
    import httpx

    cert, key, context = psc_tls
    standin = PscStandIn(ensure_standin_material(tmp_path / "psc"), DEFAULT_USERS)
    running = start_standin(standin, cert, key)
    try:
        assert running.url.startswith("https://127.0.0.1:")
        assert running.discovery_url == standin.discovery_url
        response = httpx.get(running.discovery_url, verify=context)
        assert response.json()["issuer"] == running.issuer
    finally:
        running.stop()
    assert not running._thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.discovery_url, verify=context)
