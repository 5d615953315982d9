"""The OneRoster filter grammar: parsing, canonical text, delta filters, evaluation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from rostersync.errors import Terminal
from rostersync.oneroster.filter import (
    OPS,
    Clause,
    Filter,
    FilterSyntaxError,
    build_filter,
    matches,
    parse_filter,
    since_filter,
)

# --------------------------------------------------------------------------- parsing


def test_parses_a_single_clause() -> None:
    assert parse_filter("status='active'") == Filter((Clause("status", "=", "active"),))


@pytest.mark.parametrize("op", OPS)
def test_parses_every_operator(op: str) -> None:
    assert parse_filter(f"dateLastModified{op}'2026-01-01'").clauses[0].op == op


def test_doubled_quote_inside_a_value_is_one_quote() -> None:
    assert parse_filter("familyName='O''Brien'").clauses[0].value == "O'Brien"
    assert parse_filter("x=''''").clauses[0].value == "'"
    assert parse_filter("x=''").clauses[0].value == ""


def test_dotted_fields() -> None:
    flt = parse_filter("school.sourcedId='123' AND metadata.ic.x='y'")
    assert flt.fields == ("school.sourcedId", "metadata.ic.x")
    assert flt.logic == "AND"


def test_whitespace_and_keyword_case_are_tolerated() -> None:
    loose = parse_filter("  givenName  >=  'A'   or\tfamilyName ~ 'b'  ")
    assert loose == Filter((Clause("givenName", ">=", "A"), Clause("familyName", "~", "b")), "OR")
    assert str(loose) == "givenName>='A' OR familyName~'b'"


def test_and_or_inside_a_value_is_part_of_the_value() -> None:
    flt = parse_filter("title='Rock AND Roll OR Jazz' AND status='active'")
    assert [c.value for c in flt.clauses] == ["Rock AND Roll OR Jazz", "active"]


def test_more_than_two_clauses_with_one_keyword_are_accepted() -> None:
    flt = parse_filter("a='1' AND b='2' AND c='3'")
    assert len(flt.clauses) == 3 and flt.logic == "AND"


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("", 0, "a field name"),
        ("status", 6, "an operator"),
        ("status=", 7, "a value in single quotes"),
        ("status=active", 7, "a value in single quotes"),
        ('status="active"', 7, "a value in single quotes"),
        ("status='active", 14, "a closing quote"),
        ("status='a' AND", 14, "a clause after AND"),
        ("status='a' status='b'", 11, "AND, OR or the end"),
        ("a='1' AND b='2' OR c='3'", 16, "AND and OR cannot be mixed"),
        ("a.='1'", 2, "a field name segment"),
        ("=''", 0, "a field name"),
        ("a=='1'", 2, "a value in single quotes"),
    ],
)
def test_syntax_errors_name_the_position_and_what_was_expected(text: str, position: int, expected: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    assert info.value.position == position
    assert expected in info.value.expected
    assert f"character {position + 1}" in str(info.value)
    assert isinstance(info.value, Terminal)


def test_a_syntax_error_does_not_echo_the_value() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("familyName='Secretname")
    assert "Secretname" not in str(info.value)


# --------------------------------------------------------------------------- building


def test_build_filter_writes_canonical_text() -> None:
    text = build_filter(("familyName", "=", "O'Brien"), Clause("enabledUser", "=", True), logic="or")
    assert text == "familyName='O''Brien' OR enabledUser='true'"
    assert parse_filter(text) == Filter((Clause("familyName", "=", "O'Brien"),
                                         Clause("enabledUser", "=", "true")), "OR")


def test_build_filter_rejects_bad_fields_and_ops() -> None:
    with pytest.raises(FilterSyntaxError):
        build_filter(("bad field", "=", "x"))
    with pytest.raises(FilterSyntaxError):
        build_filter(("status", "==", "x"))
    with pytest.raises(FilterSyntaxError):
        build_filter()


def test_since_filter_has_milliseconds_and_z() -> None:
    assert since_filter(datetime(2026, 9, 1, tzinfo=timezone.utc)) == "dateLastModified>'2026-09-01T00:00:00.000Z'"
    assert since_filter("2026-09-01T02:03:04.5678+02:00") == "dateLastModified>'2026-09-01T00:03:04.567Z'"
    assert since_filter("2026-09-01T00:00:00Z") == "dateLastModified>'2026-09-01T00:00:00.000Z'"
    assert since_filter(datetime(2026, 9, 1, 12, 30)) == "dateLastModified>'2026-09-01T12:30:00.000Z'"
    with pytest.raises(FilterSyntaxError):
        since_filter("last tuesday")


# --------------------------------------------------------------------------- property tests

fields = st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,8}(\.[A-Za-z_][A-Za-z0-9_\-]{0,8}){0,3}", fullmatch=True)
values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["O'Brien", "''", "a AND b", " OR ", "x' AND y='z", "Zoë 学生", "  "]),
)
clauses = st.builds(Clause, fields, st.sampled_from(OPS), values)


@settings(max_examples=300, deadline=None)
@given(st.lists(clauses, min_size=1, max_size=4), st.sampled_from(["AND", "OR"]))
def test_build_then_parse_round_trips(items: list[Clause], logic: str) -> None:
    flt = Filter(tuple(items), logic)
    text = str(flt)
    assert parse_filter(text) == flt
    assert build_filter(*items, logic=logic) == text


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=60),
    st.text(alphabet="ab.=!<>~' \tANDORandor_1", max_size=40),
))
def test_parse_is_total(text: str) -> None:
    try:
        flt = parse_filter(text)
    except FilterSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert parse_filter(str(flt)) == flt


# --------------------------------------------------------------------------- evaluation

USER_12 = {
    "sourcedId": "u1",
    "status": "active",
    "dateLastModified": "2026-09-01T10:00:00.000Z",
    "givenName": "Ana",
    "familyName": "O'Brien",
    "enabledUser": True,
    "grades": ["09", "10"],
    "roles": [
        {"roleType": "primary", "role": "teacher", "org": {"sourcedId": "s1", "type": "org", "href": "x"}},
        {"roleType": "secondary", "role": "student", "org": {"sourcedId": "s2", "type": "org", "href": "y"}},
    ],
    "orgs": [{"sourcedId": "s1"}, {"sourcedId": "s2"}],
    "primaryOrg": {"sourcedId": "s1", "type": "org", "href": "x"},
    "metadata": {"ic": {"legacySourceId": "t123"}},
    "middleName": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status='active'", True),
        ("status!='active'", False),
        ("familyName='O''Brien'", True),
        ("roles.role='student'", True),
        ("roles.role='aide'", False),
        ("roles.role!='student'", False),  # != is "no role is student"
        ("roles.role!='aide'", True),
        ("roles.org.sourcedId='s2'", True),
        ("orgs.sourcedId='s2'", True),
        ("primaryOrg='s1'", True),  # a GUIDRef leaf compares by sourcedId
        ("metadata.ic.legacySourceId='t123'", True),
        ("enabledUser='true'", True),
        ("enabledUser='false'", False),
        ("grades='10'", True),
        ("grades>'09'", True),
        ("givenName~'an'", True),  # contains, case-insensitive
        ("givenName~'x'", False),
        ("middleName='x'", False),
        ("middleName!='x'", True),  # a null field is != everything
        ("missing.path='x'", False),
        ("dateLastModified>'2026-09-01T00:00:00.000Z'", True),
        ("dateLastModified>'2026-09-01T10:00:00.000Z'", False),
        ("dateLastModified>='2026-09-01T10:00:00.000Z'", True),
        ("dateLastModified='2026-09-01T10:00:00Z'", True),  # same instant, other spelling
        ("dateLastModified<'2026-09-01T12:00:00+02:00'", False),  # 10:00Z is 12:00+02:00
        ("dateLastModified>'2026-09-01'", True),  # date-only compares lexically
        ("status='active' AND givenName='Bo'", False),
        ("status='active' OR givenName='Bo'", True),
    ],
)
def test_matches(text: str, expected: bool) -> None:
    assert matches(text, USER_12) is expected


def test_timestamps_without_milliseconds_compare_as_instants() -> None:
    cut = since_filter(datetime(2026, 9, 1, tzinfo=timezone.utc))
    assert not matches(cut, {"dateLastModified": "2026-09-01T00:00:00Z"})
    assert matches(cut, {"dateLastModified": "2026-09-01T00:00:01Z"})


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)),
       st.timedeltas(min_value=timedelta(milliseconds=-10**9), max_value=timedelta(milliseconds=10**9)))
def test_delta_filter_agrees_with_datetime_order(cut: datetime, shift: timedelta) -> None:
    cut = cut.replace(microsecond=cut.microsecond // 1000 * 1000, tzinfo=timezone.utc)
    moment = cut + shift
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert matches(since_filter(cut), {"dateLastModified": stamp}) is (moment.replace(
        microsecond=moment.microsecond // 1000 * 1000) > cut)


def test_numbers_compare_as_strings() -> None:
    assert matches("count<'9'", {"count": 10})  # documented: lexical, "10" < "9"
