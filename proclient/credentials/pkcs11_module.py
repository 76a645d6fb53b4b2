"""The PKCS#11 boundary: loading a module and the few calls the CPS credential makes.

python-pkcs11 does the loading, the object search and the signature. The login alone goes
through ctypes, straight to the module's C_Login, so that the code porteur is read from the
caller's bytearray without a copy (python-pkcs11 takes the PIN as a ``str``; see pin.py).

Threads: the modules are initialised with C_Initialize(NULL), which lets a module assume it
is not called from two threads at once; every call goes through one lock per module. The
client signs in a worker thread while the screen may probe the token flags from another.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from proclient.core.domain import DomainError
from proclient.core.i18n import _

CKR_OK = 0x000
CKR_PIN_INCORRECT = 0x0A0
CKR_PIN_INVALID = 0x0A1
CKR_PIN_LEN_RANGE = 0x0A2
CKR_PIN_LOCKED = 0x0A4
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKR_USER_NOT_LOGGED_IN = 0x101
CKU_USER = 1

CK_UNAVAILABLE_INFORMATION = ctypes.c_ulong(-1).value

# Positions in CK_FUNCTION_LIST (PKCS#11 v2.x, pkcs11f.h order).
_C_GET_TOKEN_INFO, _C_LOGIN, _C_LOGOUT = 6, 18, 19
_CK_ULONG = ctypes.c_ulong
_LOGIN = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, _CK_ULONG, ctypes.c_void_p, _CK_ULONG)
_LOGOUT = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG)


class _FunctionList(ctypes.Structure):
    # Windows' PKCS#11 headers pack structures on 1 byte; Unix ones use natural alignment.
    if sys.platform == "win32":
        _pack_ = 1
    _fields_ = [("version", ctypes.c_ubyte * 2), ("functions", ctypes.c_void_p * 68)]


class _TokenInfo(ctypes.Structure):
    """CK_TOKEN_INFO: python-pkcs11 reads it but keeps ulMinPinLen/ulMaxPinLen to itself."""

    if sys.platform == "win32":
        _pack_ = 1
    _fields_ = [
        ("label", ctypes.c_char * 32),
        ("manufacturer", ctypes.c_char * 32),
        ("model", ctypes.c_char * 16),
        ("serial", ctypes.c_char * 16),
        ("flags", _CK_ULONG),
        ("max_sessions", _CK_ULONG),
        ("sessions", _CK_ULONG),
        ("max_rw_sessions", _CK_ULONG),
        ("rw_sessions", _CK_ULONG),
        ("max_pin_len", _CK_ULONG),
        ("min_pin_len", _CK_ULONG),
        ("memory", _CK_ULONG * 4),
        ("versions", ctypes.c_ubyte * 4),
        ("utc_time", ctypes.c_char * 16),
    ]


_GET_TOKEN_INFO = ctypes.CFUNCTYPE(_CK_ULONG, _CK_ULONG, ctypes.POINTER(_TokenInfo))


def module_missing(path: str) -> DomainError:
    return DomainError(
        "CPS_MODULE",
        _(
            "Le module PKCS#11 de la carte CPS ({path}) ne peut pas être chargé : vérifiez le "
            "réglage credential.pkcs11_module (Cryptolib CPS ou opensc-pkcs11.so).",
            path=path,
        ),
    )


class Pkcs11Module:
    """A loaded and initialised PKCS#11 module, shared by the whole process.

    ``environment`` holds variables the module reads when it initialises (SoftHSM2 reads
    SOFTHSM2_CONF in C_Initialize): they are set for that call only, then put back, so that
    a private token store does not leak into the rest of the process. Asking for the same
    module with another environment finalises and initialises it again: sessions opened
    before are then gone (tests use one token store after another).
    """

    _registry: dict[str, Pkcs11Module] = {}
    _registry_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.environment: dict[str, str] | None = None
        self.lib = None
        self._functions: _FunctionList | None = None

    @classmethod
    def get(cls, path: str | os.PathLike, environment: Mapping[str, str] | None = None):
        path = str(path)
        with cls._registry_lock:
            module = cls._registry.setdefault(path, cls(path))
        module._ensure(dict(environment or {}))
        return module

    def _ensure(self, environment: dict[str, str]) -> None:
        with self.lock:
            if self.lib is not None and self.environment == environment:
                return
            if not Path(self.path).is_file():
                raise module_missing(self.path)
            import pkcs11

            with _environment(environment):
                try:
                    if self.lib is None:
                        self.lib = pkcs11.lib(self.path)
                        handle = ctypes.CDLL(self.path)  # dlopen: the same loaded module
                        pointer = ctypes.POINTER(_FunctionList)()
                        if handle.C_GetFunctionList(ctypes.byref(pointer)) != CKR_OK:
                            raise module_missing(self.path)
                        self._functions = pointer.contents
                    else:
                        self.lib.reinitialize()
                except (OSError, pkcs11.PKCS11Error):
                    self.lib = None
                    raise module_missing(self.path) from None
            self.environment = environment

    def reinitialize(self) -> None:
        """Finalise and initialise again (under the same environment): SoftHSM2 shows tokens
        created by its tool meanwhile only after this. Open sessions are lost."""
        with self.lock, _environment(self.environment or {}):
            self.lib.reinitialize()

    def login(self, session_handle: int, pin: bytearray) -> int:
        """C_Login as the user with the code read in place from ``pin``; returns the CK_RV."""
        assert self._functions is not None
        login = _LOGIN(self._functions.functions[_C_LOGIN])
        view = (ctypes.c_char * len(pin)).from_buffer(pin) if pin else None
        try:
            with self.lock:
                return int(login(session_handle, CKU_USER, view, len(pin)))
        finally:
            del view  # release the export of the bytearray, so that it can be wiped

    def pin_lengths(self, slot_id: int) -> tuple[int, int] | None:
        """(ulMinPinLen, ulMaxPinLen) of the token in ``slot_id``, or None when the module
        does not say (an error, CK_UNAVAILABLE_INFORMATION, or nonsense such as 0..0)."""
        assert self._functions is not None
        info = _TokenInfo()
        get_info = _GET_TOKEN_INFO(self._functions.functions[_C_GET_TOKEN_INFO])
        with self.lock:
            if get_info(slot_id, ctypes.byref(info)) != CKR_OK:
                return None
        shortest, longest = int(info.min_pin_len), int(info.max_pin_len)
        if CK_UNAVAILABLE_INFORMATION in (shortest, longest) or not 0 < shortest <= longest:
            return None
        return shortest, longest

    def logout(self, session_handle: int) -> int:
        assert self._functions is not None
        with self.lock:
            return int(_LOGOUT(self._functions.functions[_C_LOGOUT])(session_handle))


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class TokenBoundary:
    """The PKCS#11 calls made on one token, and nothing else.

    This is the seam where tests put a thin double (SoftHSM2 never raises the final-try and
    locked states): they override :meth:`token_flags` or :meth:`login` and keep the rest real.
    """

    def __init__(self, module: Pkcs11Module, token) -> None:
        self.module = module
        self.token = token
        self.session = None
        self._logged_in = False

    def token_flags(self) -> int:
        with self.module.lock:
            return int(self.token.slot.get_token().flags)

    def open(self) -> None:
        with self.module.lock:
            self.session = self.token.open()

    def pin_lengths(self) -> tuple[int, int] | None:
        """The shortest and longest code porteur the token accepts, when it says."""
        return self.module.pin_lengths(self.token.slot.slot_id)

    def login(self, pin: bytearray) -> int:
        rv = self.module.login(self.session.handle, pin)
        if rv == CKR_USER_ALREADY_LOGGED_IN:
            # Another session of this process left the card open: close that login and check
            # this code for real, or a wrong code would unlock a locked screen.
            self.module.logout(self.session.handle)
            rv = self.module.login(self.session.handle, pin)
        self._logged_in = rv == CKR_OK
        return rv

    def certificates(self) -> list[tuple[str, bytes, bytes]]:
        """(label, CKA_ID, DER) of every X.509 certificate on the token."""
        from pkcs11 import Attribute, CertificateType, ObjectClass

        with self.module.lock:
            found = self.session.get_objects(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                }
            )
            return [
                (_text(obj, Attribute.LABEL), _raw(obj, Attribute.ID), bytes(obj[Attribute.VALUE]))
                for obj in found
            ]

    def private_keys(self) -> list[tuple[str, bytes, object]]:
        """(label, CKA_ID, key object) of the private keys visible in the session."""
        from pkcs11 import Attribute, ObjectClass

        with self.module.lock:
            found = self.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            return [(_text(obj, Attribute.LABEL), _raw(obj, Attribute.ID), obj) for obj in found]

    def mechanisms(self) -> set:
        with self.module.lock:
            return set(self.token.slot.get_mechanisms())

    def sign(self, key, data: bytes, mechanism) -> bytes:
        with self.module.lock:
            return bytes(key.sign(data, mechanism=mechanism))

    def close(self) -> None:
        """Log out and close the session; a card already gone or a module reset is fine."""
        import pkcs11

        session, self.session = self.session, None
        if session is None:
            return
        with self.module.lock:
            if self._logged_in:
                # Only the session that logged in logs out: C_Logout reaches every session of
                # the application on this token, and a mere probe must not end a login.
                self._logged_in = False
                with contextlib.suppress(pkcs11.PKCS11Error):
                    self.module.logout(session.handle)
            with contextlib.suppress(pkcs11.PKCS11Error):
                session.close()


def _text(obj, attribute) -> str:
    try:
        return str(obj[attribute])
    except Exception:  # an absent optional attribute: the module's own error type
        return ""


def _raw(obj, attribute) -> bytes:
    try:
        return bytes(obj[attribute])
    except Exception:
        return b""
