"""imsx status bodies: the strict shape we write and the lenient reading of what providers send."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from rostersync.oneroster import imsx
from rostersync.oneroster.imsx import ImsxStatus, build_status, error_status, parse_status


def test_build_status_writes_the_standard_shape() -> None:
    assert build_status("invalid_filter_field", "bad filter") == {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": "bad filter",
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": "invalid_filter_field"},
        ]},
    }


def test_build_then_parse_round_trips() -> None:
    status = ImsxStatus("failure", "error", "Too many requests", (("TargetEndSystem", "server_busy"),))
    assert parse_status(orjson.dumps(status.to_dict())) == status
    assert parse_status(orjson.dumps(status.to_dict()).decode()) == status
    assert parse_status(status.to_dict()).minor == "server_busy"


@pytest.mark.parametrize(
    ("minor", "http"),
    [
        ("invalid_filter_field", 400),
        ("invalid_selection_field", 400),
        ("unauthorisedrequest", 401),
        ("forbidden", 403),
        ("unknownobject", 404),
        ("invaliddata", 400),
        ("server_busy", 429),
        ("internal_server_error", 500),
        ("something_new", 500),
    ],
)
def test_error_status_pairs_each_code_minor_with_its_http_status(minor: str, http: int) -> None:
    status, body = error_status(minor, "why")
    assert status == http
    assert parse_status(body).minor == minor


def test_every_http_error_maps_back_to_a_code_minor_with_that_status() -> None:
    for http, minor in imsx.MINOR_FOR_HTTP.items():
        # 422 has no code minor of its own: invaliddata, which providers send with 400
        assert imsx.HTTP_STATUS[minor] == (400 if http == 422 else http)


@pytest.mark.parametrize(
    "body",
    [
        # lower-case C in CodeMinor, minor field a single object
        {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": "No such user",
         "imsx_codeMinor": {"imsx_codeMinorField": {"imsx_codeMinorFieldName": "TargetEndSystem",
                                                    "imsx_codeMinorFieldValue": "unknownobject"}}},
        # upper case keys
        {"IMSX_CODEMAJOR": "failure", "IMSX_SEVERITY": "error", "IMSX_DESCRIPTION": "No such user",
         "IMSX_CODEMINOR": {"IMSX_CODEMINORFIELD": [{"IMSX_CODEMINORFIELDNAME": "TargetEndSystem",
                                                     "IMSX_CODEMINORFIELDVALUE": "unknownobject"}]}},
        # no imsx_ prefix
        {"codeMajor": "failure", "severity": "error", "description": "No such user",
         "codeMinor": {"codeMinorField": [{"codeMinorFieldName": "TargetEndSystem",
                                           "codeMinorFieldValue": "unknownobject"}]}},
        # statusInfoSet wrapper, a list
        {"statusInfoSet": [{"imsx_codeMajor": "failure", "imsx_severity": "error",
                            "imsx_description": "No such user",
                            "imsx_CodeMinor": {"imsx_codeMinorField": [{
                                "imsx_codeMinorFieldName": "TargetEndSystem",
                                "imsx_codeMinorFieldValue": "unknownobject"}]}}]},
        # statusInfoSet wrapper, one object
        {"statusInfoSet": {"imsx_codeMajor": "failure", "imsx_severity": "error",
                           "imsx_description": "No such user",
                           "imsx_CodeMinor": {"imsx_codeMinorField": {
                               "imsx_codeMinorFieldName": "TargetEndSystem",
                               "imsx_codeMinorFieldValue": "unknownobject"}}}},
        # minor as a bare string
        {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": "No such user",
         "imsx_CodeMinor": "unknownobject"},
    ],
)
def test_parse_status_reads_the_variants_providers_send(body: dict) -> None:
    status = parse_status(orjson.dumps(body))
    assert status is not None
    assert status.code_major == "failure"
    assert status.severity == "error"
    assert status.description == "No such user"
    assert status.minor == "unknownobject"


def test_parse_status_without_minor_still_reads_the_major() -> None:
    status = parse_status(b'{"imsx_codeMajor": "failure", "imsx_description": "nope"}')
    assert status == ImsxStatus("failure", "error", "nope", ())
    assert status.minor is None


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b"42", b"null", b'{"users": []}', b'{"statusInfoSet": 3}',
     b'{"statusInfoSet": [1, "x"]}', "<html>502 Bad Gateway</html>", None, {"imsx_codeMajor": {"x": 1}}],
)
def test_parse_status_gives_none_for_garbage(body: object) -> None:
    assert parse_status(body) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
    | st.sampled_from(["imsx_codeMajor", "failure", "unknownobject"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["imsx_codeMajor", "imsx_CodeMinor", "imsx_codeMinorField", "imsx_codeMinorFieldValue",
                         "statusInfoSet", "codeMinor", "severity", "x"]) | st.text(max_size=5),
        inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, st.binary(max_size=40), st.text(max_size=40)))
def test_parse_status_never_raises(body: object) -> None:
    raw = json.dumps(body) if not isinstance(body, bytes | str) else body
    for candidate in (raw, body):
        result = parse_status(candidate)
        assert result is None or isinstance(result, ImsxStatus)
