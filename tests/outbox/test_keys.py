"""The outbox key: in the keyring where one works, else a private file in the config dir."""

from __future__ import annotations

import pytest

from proclient.outbox.entry import capture
from proclient.outbox.keys import KEY_FILE_NAME, OutboxKey
from proclient.outbox.store import EncryptedOutbox

keyring = pytest.importorskip("keyring")
from keyring.backend import KeyringBackend  # noqa: E402
from keyring.errors import NoKeyringError, PasswordDeleteError  # noqa: E402


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class BrokenKeyring(MemoryKeyring):
    """A headless workstation: no secret service behind keyring."""

    def get_password(self, service, username):
        raise NoKeyringError("no backend")

    set_password = get_password


@pytest.fixture
def use_keyring_backend():
    previous = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


def test_working_keyring_holds_the_key_and_no_file_is_made(
    homes, use_keyring_backend, credential, minor_request
):
    backend = use_keyring_backend(MemoryKeyring())
    data, config = homes
    key = OutboxKey(config)
    outbox = EncryptedOutbox(data / "outbox", key)
    entry = capture(*minor_request, credential)
    entry_id = outbox.put(entry)
    assert key.where == "keyring"
    assert backend.passwords
    assert not (config / KEY_FILE_NAME).exists()
    assert EncryptedOutbox(data / "outbox", OutboxKey(config)).get(entry_id) == entry


def test_failing_keyring_falls_back_to_the_key_file(
    homes, use_keyring_backend, credential, minor_request
):
    use_keyring_backend(BrokenKeyring())
    data, config = homes
    key = OutboxKey(config)
    entry_id = EncryptedOutbox(data / "outbox", key).put(capture(*minor_request, credential))
    assert key.where == "file"
    assert (config / KEY_FILE_NAME).exists()
    # A keyring that appears later does not hide the file's key from the entries it made.
    use_keyring_backend(MemoryKeyring())
    later = OutboxKey(config)
    assert EncryptedOutbox(data / "outbox", later).get(entry_id).id_nat == "810002345678"
    assert later.where == "file"


def test_keyring_absent_uses_the_key_file(homes, no_keyring):
    data, config = homes
    key = OutboxKey(config)
    made = key.load_or_create()
    assert key.where == "file"
    assert len(made) == 32
    assert OutboxKey(config).load() == made
