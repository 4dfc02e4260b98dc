from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearance.approvals.settings import ApprovalSettings
from clearance.config import parse_config


def test_when_nothing_is_configured_then_an_hour_to_decide_and_twenty_pending_per_requester() -> None:
    settings = parse_config({}).approvals

    assert (settings.pending_lifetime, settings.max_pending, settings.public_url) == (3600.0, 20, None)


def test_when_public_url_is_set_then_links_start_there_else_at_the_requests_host() -> None:
    assert ApprovalSettings(public_url="https://gw.example.com/").base_url("http://10.0.0.1:8080") == (  # type: ignore[arg-type]
        "https://gw.example.com"
    )
    assert ApprovalSettings().base_url("http://10.0.0.1:8080/") == "http://10.0.0.1:8080"


@pytest.mark.parametrize(
    "data",
    [
        {"pending_lifetime": 0},
        {"max_pending": 0},
        {"public_url": "not a url"},
        {"wait": 30},
        {"max_wait": -1},
        {"max_waiting": 0},
        {"keepalive_interval": 0},
        {"poll_interval": 0},
        {"poll_interval": 61},
    ],
)
def test_when_a_setting_is_out_of_range_or_unknown_then_it_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ApprovalSettings.model_validate(data)


def test_when_nothing_is_configured_then_waits_last_five_minutes_with_keepalives_every_15s_and_a_poll_each_second() -> (
    None
):
    settings = parse_config({}).approvals

    assert (settings.max_wait, settings.keepalive_interval, settings.poll_interval) == (300.0, 15.0, 1.0)
