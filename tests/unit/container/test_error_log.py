"""gunicorn's error log quotes malformed requests as sent: never with an e-mail address in them."""
from gunicorn.config import Config

from container.error_log import RedactingLogger


def test_a_warning_quoting_a_request_line_has_its_address_redacted(capsys):
    config = Config()
    config.set("logger_class", "container.error_log.RedactingLogger")
    log = RedactingLogger(config)
    log.warning("Invalid request from ip=%s: %s", "127.0.0.1",
                "Invalid HTTP request line: 'GET /api/users?who=leak1@example.com HTTP/1.1'")
    written = capsys.readouterr().err
    assert "Invalid HTTP request line" in written and "[redacted-email]" in written
    assert "leak1@example.com" not in written


def test_setting_the_logger_up_again_filters_once(capsys):
    log = RedactingLogger(Config())
    log.setup(Config())
    assert len(log.error_log.filters) == 1
