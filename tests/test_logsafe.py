import logging

from proclient.core.logsafe import log_unexpected


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


def test_the_log_file_is_private_and_rotated(tmp_path):
    import logging
    import stat

    from proclient.core.logsafe import private_log_handler

    path = tmp_path / "log" / "proclient.log"
    path.parent.mkdir()
    path.write_text("old line from a 0644 version\n")
    path.chmod(0o644)
    handler = private_log_handler(path, max_bytes=200, backups=2)
    logger = logging.getLogger("proclient.test.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(40):
            logger.warning("line %d of the technical log", n)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["proclient.log", "proclient.log.1", "proclient.log.2"]
    for name in files:
        mode = stat.S_IMODE((path.parent / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_a_log_file_already_full_rotates_at_the_first_record(tmp_path):
    """The size is checked before each record, the file's kind only once (when opened): a
    file left at its limit by the last run rotates before its first new line."""
    import logging

    from proclient.core.logsafe import private_log_handler

    path = tmp_path / "proclient.log"
    path.write_text("x" * 300 + "\n")
    handler = private_log_handler(path, max_bytes=200, backups=2)
    logger = logging.getLogger("proclient.test.full")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("the first line of this run")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert path.read_text() == "the first line of this run\n"
    assert (tmp_path / "proclient.log.1").read_text().startswith("x" * 300)
