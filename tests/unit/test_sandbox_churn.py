"""School days in the sandbox district: deterministic churn whose dateLastModified is exact."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.district import District, generate
from rostersync.sandbox.district_check import current, problems
from rostersync.sandbox.district_model import SandboxError

V11, V12 = Version.V1P1, Version.V1P2


def dump(d: District, version: Version) -> bytes:
    return orjson.dumps({k.value: list(d.records(k, version)) for k in Kind})


def content(d: District, kind: Kind, version: Version) -> dict[str, dict]:
    """Served records by sourcedId, without dateLastModified."""
    out = {}
    for record in d.records(kind, version):
        record.pop("dateLastModified")
        out[record["sourcedId"]] = record
    return out


def test_generating_day_n_equals_advancing_day_0_n_times():
    direct = generate(seed=9, students=600, day=4)
    stepped = generate(seed=9, students=600)
    for _ in range(4):
        stepped.advance()
    jumped = generate(seed=9, students=600)
    jumped.advance(1)
    jumped.advance(3)
    for version in Version:
        assert dump(direct, version) == dump(stepped, version) == dump(jumped, version)
    assert direct.now == stepped.now and direct.revision == 4 and direct.day == 4
    assert dump(generate(seed=9, students=600, day=3), V11) != dump(direct, V11)


@pytest.mark.parametrize("version", list(Version), ids=lambda v: v.value)
def test_changed_since_end_of_previous_day_is_exactly_what_changed(version):
    d = generate(seed=21, students=1500)
    seen: Counter[tuple[str, str]] = Counter()
    for day in range(1, 5):
        before = {kind: content(d, kind, version) for kind in Kind}
        since = d.now
        d.advance()
        log = d.changes(day, version)
        for kind in Kind:
            after = content(d, kind, version)
            changed = sorted(sid for sid, rec in after.items() if before[kind].get(sid) != rec)
            assert d.changed_since(kind, since, version) == changed, (day, kind)
            created = after.keys() - before[kind].keys()
            tobedeleted = {sid for sid in after.keys() & before[kind].keys()
                           if after[sid]["status"] == "tobedeleted" != before[kind][sid]["status"]}
            assert set(log[kind]["created"]) == created
            assert set(log[kind]["deleted"]) == before[kind].keys() - after.keys()
            assert set(log[kind]["tobedeleted"]) == tobedeleted
            assert set(log[kind]["updated"]) == set(changed) - created - tobedeleted
            for category, sids in log[kind].items():
                seen[kind.value, category] += len(sids)
            for sid in changed:  # stamped within the school day, before the clock
                stamp = d.get(kind, sid, version)["dateLastModified"]
                assert since < stamp < d.now and stamp[:10] == d.now[:10]
    for kind in ("user", "enrollment", "demographics"):
        for category in ("created", "updated", "deleted"):
            assert seen[kind, category] > 0, (kind, category)
    assert seen["enrollment", "tobedeleted"] > 0
    assert sum(n for (kind, _), n in seen.items() if kind in ("org", "course", "class")) == 0


def test_school_days_skip_weekends_and_holidays_and_the_clock_follows():
    d = generate(seed=1, students=30)
    days = []
    for _ in range(16):
        d.advance()
        days.append(d.now[:10])
    assert days[:6] == ["2026-08-17", "2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21", "2026-08-24"]
    assert "2026-09-07" not in days and "2026-09-08" in days  # Labor Day
    assert d.now == "2026-09-08T23:00:00.000Z"


def test_withdrawn_students_vanish_with_their_enrollments_or_all_go_tobedeleted():
    d = generate(seed=3, students=3000)
    vanished = marked = 0
    for day in range(1, 7):
        d.advance()
        users = d.changes(day, V11)[Kind.USER]
        enrollments = list(d.records(Kind.ENROLLMENT, V11))
        for sid in (s for s in users["deleted"] if s.startswith("s")):
            vanished += 1
            assert d.get(Kind.USER, sid, V11) is None and d.get(Kind.DEMOGRAPHICS, sid, V11) is None
            assert not [e for e in enrollments if e["user"]["sourcedId"] == sid]
        for sid in users["tobedeleted"]:
            marked += 1
            assert d.get(Kind.DEMOGRAPHICS, sid, V11)["status"] == "tobedeleted"
            theirs = [e for e in enrollments if e["user"]["sourcedId"] == sid]
            assert theirs and all(e["status"] == "tobedeleted" for e in theirs)
    assert vanished and marked


def test_a_replaced_teacher_leaves_one_current_primary_per_class():
    d = generate(seed=5, students=2000)
    replaced = 0
    for day in range(1, 5):
        d.advance()
        log = d.changes(day, V11)[Kind.ENROLLMENT]
        for sid in (s for s in log["created"] if s.startswith("t")):
            new = d.get(Kind.ENROLLMENT, sid, V11)
            assert new["primary"] == "true" and new["beginDate"] == d.now[:10]
            others = [e for e in d.records(Kind.ENROLLMENT, V11)
                      if e["class"] == new["class"] and e["role"] == "teacher" and e["primary"] == "true"]
            assert [e["sourcedId"] for e in others if current(e)] == [sid]
            replaced += 1
        old = [s for c in ("deleted", "tobedeleted", "updated") for s in log[c] if s.startswith("t")]
        assert len(old) == len([s for s in log["created"] if s.startswith("t")])
    assert replaced
    assert problems(d, V11) == [] and problems(d, V12) == []


def test_name_changes_move_username_and_email_and_keep_them_unique():
    d = generate(seed=6, students=4000)
    before = content(d, Kind.USER, V12)
    d.advance(3)
    after = content(d, Kind.USER, V12)
    updated = [sid for day in (1, 2, 3) for sid in d.changes(day, V12)[Kind.USER]["updated"]]
    assert updated
    renamed = [s for s in updated if after[s]["familyName"] != before[s]["familyName"]]
    assert renamed
    for sid in updated:
        assert after[sid]["email"] != before[sid]["email"]
        assert after[sid]["username"] == after[sid]["email"].split("@")[0]
    emails = [u["email"] for u in after.values()]
    assert len(set(emails)) == len(emails)


def test_churn_volume_is_roughly_realistic_for_a_10k_district():
    d = generate(seed=1, students=10_000)
    for day in range(1, 4):
        enrollments = d.count(Kind.ENROLLMENT)
        d.advance()
        log = d.changes(day, V11)
        touched = sum(len(v) for v in log[Kind.ENROLLMENT].values())
        assert 0.002 <= touched / enrollments <= 0.012, touched / enrollments
        arrived = [s for s in log[Kind.USER]["created"] if s.startswith("s")]
        left = [s for s in log[Kind.USER]["deleted"] + log[Kind.USER]["tobedeleted"] if s.startswith("s")]
        assert 2 <= len(arrived) <= 40 and 2 <= len(left) <= 40


def test_a_30_student_district_sees_every_kind_of_change_within_a_week():
    d = generate(seed=1, students=30)
    d.advance(6)
    seen = Counter()
    for day in range(1, 7):
        for kind, categories in d.changes(day, V11).items():
            for category, sids in categories.items():
                for sid in sids:
                    seen[kind.value, category, sid[0] if kind is not Kind.DEMOGRAPHICS else ""] += 1
    for key in [("user", "created", "s"), ("user", "updated", "s"), ("enrollment", "created", "s"),
                ("enrollment", "created", "t"), ("demographics", "created", ""),
                ("demographics", "updated", "")]:
        assert seen[key], key
    assert seen["user", "deleted", "s"] + seen["user", "tobedeleted", "s"]
    assert seen["enrollment", "tobedeleted", "s"] + seen["enrollment", "tobedeleted", "t"]
    assert problems(d, V11) == []


def test_a_month_of_churn_keeps_every_invariant():
    d = generate(seed=8, students=1200, day=20)
    assert problems(d, V11) == [] and problems(d, V12) == []
    assert d.summary()["day"] == 20 and d.revision == 20


def test_views_follow_the_district_as_it_advances():
    d = generate(seed=2, students=500)
    view = d.records(Kind.USER, V11)
    d.advance()
    fresh = d.records(Kind.USER, V11)
    assert fresh.revision == d.revision == view.revision + 1
    assert len(fresh) == d.count(Kind.USER)


def test_the_year_has_an_end():
    d = generate(seed=1, students=30, day=180)
    with pytest.raises(SandboxError, match="school days"):
        d.advance(50)
    with pytest.raises(SandboxError, match="days must be"):
        d.advance(-1)
