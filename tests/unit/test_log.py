"""No secret can reach a log line."""

import io
import logging

from rostersync.log import REDACTED, configure_logging, redact, register_secret


def _capture():
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    return stream


def test_registered_secrets_never_print_in_messages_args_or_tracebacks():
    secret = "s3cr3t-Value-For-District-42"
    register_secret(secret)
    stream = _capture()
    log = logging.getLogger("rostersync.test")
    log.info("connecting with %s", secret)
    log.warning({"client_secret_copy": secret})
    try:
        raise ValueError(f"boom {secret}")
    except ValueError:
        log.exception("failed")
    out = stream.getvalue()
    assert secret not in out
    assert out.count(REDACTED) >= 3


def test_credential_shapes_are_masked_without_registration():
    stream = _capture()
    log = logging.getLogger("rostersync.test")
    log.info("POST /token body=grant_type=client_credentials&client_id=abc&client_secret=UnRegistered123")
    log.info("headers {'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig'}")
    log.info('Authorization: OAuth oauth_consumer_key="k", oauth_signature="c2lnbmF0dXJl"')
    log.info('{"access_token": "tok-123456789", "password": "hunter22"}')
    out = stream.getvalue()
    for leaked in ("UnRegistered123", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "tok-123456789", "hunter22"):
        assert leaked not in out, leaked
    assert "client_id=abc" in out  # ids are not secrets


def test_json_logs_are_redacted_too():
    stream = io.StringIO()
    configure_logging("INFO", as_json=True, stream=stream)
    register_secret("another-secret-9999")
    logging.getLogger("x").info("value another-secret-9999")
    assert "another-secret-9999" not in stream.getvalue()


def test_redact_leaves_ordinary_text_alone():
    text = "synced 1200 students for district Springfield in 3.2 s"
    assert redact(text) == text


def test_logging_follows_stderr_when_it_is_replaced(capsys):
    import io
    import logging
    import sys

    from rostersync.log import configure_logging

    handler = configure_logging("INFO")
    try:
        old, replaced = sys.stderr, io.StringIO()
        sys.stderr = replaced
        try:
            logging.getLogger("rostersync.test").info("after the swap")
        finally:
            sys.stderr = old
        assert "after the swap" in replaced.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)
