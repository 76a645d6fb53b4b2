"""SoftHSM2 tokens laid out like a CPS, each in a private store (its own SOFTHSM2_CONF).

SoftHSM2 is a real PKCS#11 module: the tests log in, read objects and sign on it as on a CPS.
Without it they skip with the reason, and fail when PROCLIENT_REQUIRE_REAL=1 (CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proclient.credentials.pin import CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED
from proclient.credentials.pkcs11_module import CKR_PIN_LOCKED, TokenBoundary
from proclient.credentials.softhsm import (
    DEMO_TOKEN_LABEL,
    SoftHsmStore,
    create_store,
    ensure_demo_token,
    find_softhsm,
)
from proclient.server.demo import DemoPki, ensure_demo_pki


def require_softhsm() -> str:
    """The SoftHSM2 module's path, or skip (fail under PROCLIENT_REQUIRE_REAL=1)."""
    module = find_softhsm()
    if module is None:
        try:
            import pkcs11  # noqa: F401
        except ImportError:
            reason = "python-pkcs11 is not installed"
        else:
            reason = "SoftHSM2 (softhsm2-util and libsofthsm2.so) is not installed"
        if os.environ.get("PROCLIENT_REQUIRE_REAL"):
            pytest.fail(f"{reason}; it is required here (PROCLIENT_REQUIRE_REAL is set)")
        pytest.skip(reason)
    return module


@pytest.fixture(scope="session")
def softhsm() -> str:
    return require_softhsm()


@pytest.fixture(scope="session")
def pki(demo_pki_cache: Path) -> DemoPki:
    """The run's demo PKI (tests/conftest.py: made once, read only)."""
    return ensure_demo_pki(demo_pki_cache)


@pytest.fixture
def cps_store(softhsm: str, pki: DemoPki, tmp_path: Path) -> SoftHsmStore:
    """A token holding the demo pharmacist's key and certificate, code porteur 1234."""
    user = pki.default
    store = ensure_demo_token(
        tmp_path / "softhsm", user.key_path, user.cert_path, user.pin, module_path=softhsm
    )
    assert store is not None
    return store


@pytest.fixture
def empty_store(softhsm: str, tmp_path: Path) -> SoftHsmStore:
    """A store where no token was ever initialised: no card in the reader."""
    return create_store(tmp_path / "empty", softhsm)


def cps_token(store: SoftHsmStore, **kwargs):
    from proclient.credentials.pkcs11 import CpsToken

    kwargs.setdefault("token_label", DEMO_TOKEN_LABEL)
    return CpsToken(store.module_path, environment=store.environment, **kwargs)


class CardStates(TokenBoundary):
    """The real SoftHSM2 session with the card's PIN states forced.

    Why a double: SoftHSM2 never blocks a token and only ever raises CKF_USER_PIN_COUNT_LOW,
    so a CPS's last try (CKF_USER_PIN_FINAL_TRY) and blocked card (CKF_USER_PIN_LOCKED,
    CKR_PIN_LOCKED) cannot happen on it. Only the flags and the login's return code are
    overridden; objects, sessions and signatures stay SoftHSM2's. ``logins`` counts the
    C_Login calls that reached the module."""

    extra_flags = 0
    login_result: int | None = None
    logins: list[int] = []

    def token_flags(self) -> int:
        return super().token_flags() | self.extra_flags

    def login(self, pin: bytearray) -> int:
        if self.login_result is not None:
            type(self).logins.append(self.login_result)
            return self.login_result
        rv = super().login(pin)
        type(self).logins.append(rv)
        return rv


def card_states(flags: int = 0, login_result: int | None = None) -> type[CardStates]:
    """A fresh CardStates class (its own login counter)."""
    return type(
        "CardStatesForTest",
        (CardStates,),
        {"extra_flags": flags, "login_result": login_result, "logins": []},
    )


FINAL_TRY = CKF_USER_PIN_FINAL_TRY
LOCKED = CKF_USER_PIN_LOCKED
PIN_LOCKED_RV = CKR_PIN_LOCKED
