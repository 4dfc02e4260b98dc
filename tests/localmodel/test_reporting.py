from __future__ import annotations

import pytest

from clearance.localmodel.reporting import report_nothing, report_to_stderr


def test_when_reporting_then_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    report_to_stderr("compiling: 50%")
    report_nothing("dropped")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "clearance local-model: compiling: 50%\n"
