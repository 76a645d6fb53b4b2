import logging

from proclient.logsafe import log_unexpected


def test_unexpected_error_is_logged_without_its_message(caplog):
    caplog.set_level(logging.ERROR)
    try:
        raise ValueError("patient LE GOFF 152033523804587")
    except ValueError:
        log_unexpected(logging.getLogger("t"), "card read failed")
    assert "card read failed: ValueError" in caplog.text
    assert "test_logsafe.py" in caplog.text  # where it happened is kept
    assert "152033523804587" not in caplog.text and "LE GOFF" not in caplog.text
