"""The sandbox's fault switches: parsing, validation, deterministic chance, counters."""

from __future__ import annotations

import pytest

from rostersync.sandbox.faults import FaultConfig, Faults, FaultSpecError, parse_fault_specs


def test_specs_parse_names_values_and_bare_switches():
    values = parse_fault_specs(["rate_limit=0.25,no_link", "fail_once=503 drop", "expire_tokens_after=7"])
    assert values == {"rate_limit": 0.25, "no_link": True, "fail_once": 503, "drop": 1.0, "expire_tokens_after": 7}
    config = Faults(["rate_limit=0.25", "no_link"]).config
    assert config.rate_limit == 0.25 and config.no_link and config.active() == ["rate_limit", "no_link"]


def test_specs_accept_aliases():
    assert parse_fault_specs(["no_headers"]) == {"no_total_count": True, "no_link": True}
    assert parse_fault_specs(["slow=0.5"]) == {"delay": 0.5}


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("ratelimit=0.1", "unknown fault 'ratelimit'"),
        ("rate_limit=abc", "takes a number"),
        ("rate_limit=1.5", "between 0 and 1"),
        ("fail_once=404", "500, 502 or 503"),
        ("delay=-1", "seconds"),
        ("no_link=maybe", "true or false"),
        ("expire_tokens_after=-3", "whole number"),
        ("delay=nan", "finite"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, words):
    with pytest.raises(FaultSpecError) as caught:
        Faults([spec])
    assert words in str(caught.value)
    assert spec.split("=")[0] in str(caught.value)  # names the switch


def test_unknown_field_in_set_is_refused():
    with pytest.raises(FaultSpecError, match="unknown fault 'latency'"):
        Faults().set(latency=3)


def test_everything_is_off_by_default_and_nothing_fires():
    faults = Faults()
    assert faults.config.active() == []
    assert faults.rate_limited("/x") is None
    assert faults.fail_status("/x") is None
    assert not faults.dropped("/x")
    assert faults.delay_seconds() == 0
    assert not faults.tokens_expire_now()
    headers = {"X-Total-Count": "3", "Link": "<a>"}
    faults.strip_headers(headers)
    assert headers == {"X-Total-Count": "3", "Link": "<a>"}
    assert set(faults.counts().values()) == {0}


def test_rate_limit_is_a_deterministic_fraction():
    def outcomes(seed: int) -> list[bool]:
        faults = Faults(FaultConfig(rate_limit=0.3, retry_after=2, seed=seed))
        return [faults.rate_limited(f"/users?offset={i % 50}") is not None for i in range(2000)]

    first = outcomes(7)
    assert first == outcomes(7)  # same seed, same requests: same answers
    assert first != outcomes(8)
    assert 0.25 < sum(first) / len(first) < 0.35
    faults = Faults(FaultConfig(rate_limit=1.0, retry_after=2))
    assert faults.rate_limited("/a") == 2.0
    assert faults.counts()["rate_limit"] == 1


def test_a_retried_url_is_not_stuck_behind_the_rate_limit():
    faults = Faults(FaultConfig(rate_limit=0.5, seed=3))
    for url in (f"/orgs?offset={i}" for i in range(40)):
        assert any(faults.rate_limited(url) is None for _ in range(30))


def test_fail_once_fails_each_path_once_until_switched_again():
    faults = Faults(FaultConfig(fail_once=502))
    assert faults.fail_status("/orgs?limit=5") == 502
    assert faults.fail_status("/orgs?limit=5") is None
    assert faults.fail_status("/orgs?limit=6") == 502
    faults.set(fail_once=503)
    assert faults.fail_status("/orgs?limit=5") == 503
    assert faults.counts()["fail_once"] == 3


def test_tokens_expire_once_after_n_api_requests():
    faults = Faults(FaultConfig(expire_tokens_after=2))
    answers = []
    for _ in range(5):
        answers.append(faults.tokens_expire_now())
        faults.api_request_served()
    assert answers == [False, False, True, False, False]
    faults.set(expire_tokens_after=1)  # re-armed by switching
    assert [faults.tokens_expire_now(), faults.api_request_served(), faults.tokens_expire_now()] == [
        False, None, True]
    assert faults.counts()["expire_tokens"] == 2


def test_header_faults_strip_and_count():
    faults = Faults(["no_total_count"])
    headers = {"X-Total-Count": "10", "Link": "<x>; rel=\"next\"", "Content-Type": "application/json"}
    faults.strip_headers(headers)
    assert "X-Total-Count" not in headers and "Link" in headers
    faults.set(no_link=True)
    faults.strip_headers(headers)
    assert "Link" not in headers
    assert faults.counts()["no_total_count"] == 1 and faults.counts()["no_link"] == 1


def test_insert_fires_once_per_collection_and_version():
    faults = Faults(["insert_record"])
    assert faults.should_insert("students", "1.1")
    assert not faults.should_insert("students", "1.1")
    assert faults.should_insert("students", "1.2")
    faults.off()
    assert not faults.should_insert("classes", "1.1")
    faults.set(insert_record=True)
    assert faults.should_insert("students", "1.1")  # switched on again: once more
    assert faults.counts()["insert_record"] == 3


def test_replace_switches_unnamed_faults_off():
    faults = Faults(["no_link", "delay=2"])
    faults.replace({"rate_limit": 0.1})
    assert faults.config.active() == ["rate_limit"]
    faults.off()
    assert faults.config.active() == []
