import io
import json

from devstack.console import ConsoleLog, worth_showing


def emf_line():
    return json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "requests": [1.0]})


def test_request_records_and_info_logs_stay_in_the_log_file():
    assert not worth_showing(emf_line())
    assert not worth_showing(json.dumps({"level": "INFO", "message": "user created"}))


def test_errors_warnings_state_changes_and_tracebacks_reach_the_console():
    assert worth_showing(json.dumps({"level": "ERROR", "message": "request failed"}))
    assert worth_showing(json.dumps({"level": "WARNING", "message": "slo alert opened"}))
    assert worth_showing(json.dumps({"level": "INFO", "message": "Circuit breaker transition"}))
    assert worth_showing("Traceback (most recent call last):")


def test_every_line_goes_to_the_log_file_and_only_some_to_the_console():
    log_file, console = io.StringIO(), io.StringIO()
    stream = ConsoleLog(log_file, console)
    stream.write(emf_line() + "\n" + json.dumps({"level": "ERROR", "message": "boom"}))
    stream.write("\n")
    assert log_file.getvalue().count("\n") == 2
    assert console.getvalue() == json.dumps({"level": "ERROR", "message": "boom"}) + "\n"
