"""`make bench-soak` refuses arguments it cannot run with, before a stack starts."""
import pytest

from bench._soak import main


@pytest.mark.parametrize("argv, message", [
    (["--duration", "abc"], "not a duration: 'abc'"),
    (["--rate", "nan"], "must be finite numbers"),
    (["--rate", "0"], "Invalid value for '--rate': 0.0 is not in the range x>0"),
    (["--samples", "-1"], "Invalid value for '--samples': -1 is not in the range x>=0"),
    (["--duration", "-5s"], "Invalid value for '--duration': a duration is positive, not '-5s'"),
    (["--warmup", "-2m"], "Invalid value for '--warmup': a duration is positive, not '-2m'"),
    (["--duration", "1m", "--warmup", "2m"], "--warmup must be shorter than --duration"),
])
def test_a_soak_that_cannot_run_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
