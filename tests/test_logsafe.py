import logging

from proclient.logsafe import log_unexpected


def test_unexpected_error_is_logged_without_its_message(caplog):
    caplog.set_level(logging.ERROR)
    nir = "".join(["152033", "523804587"])  # built at run time: the source line shows no NIR
    try:
        raise ValueError(f"patient {nir}")
    except ValueError:
        log_unexpected(logging.getLogger("t"), "card read failed")
    assert "card read failed: ValueError" in caplog.text
    assert "test_logsafe.py" in caplog.text  # where it happened is kept
    assert nir not in caplog.text
