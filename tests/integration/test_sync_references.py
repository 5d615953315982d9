"""References to unknown records are counted per run and reported with examples, never fatal
(on SQLite and PostgreSQL: list references are read with each database's JSON functions)."""

from __future__ import annotations

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.district import generate
from rostersync.sync.testing import FakeReader


def test_references_to_unknown_records_are_counted_not_fatal(harness):
    reader = FakeReader.from_district(generate(seed=3, students=20))
    harness.add()
    synced = harness.sync_engine(reader)

    enrollment = reader.collections["enrollments"][0]
    klass = reader.collections["classes"][0]
    reader.inject(
        "enrollments",
        {**enrollment, "sourcedId": "e-ghost-user", "user": {"sourcedId": "nobody", "type": "user"}},
        {**enrollment, "sourcedId": "e-ghost-both", "user": {"sourcedId": "nobody", "type": "user"},
         "class": {"sourcedId": "no-class", "type": "class"}},
    )
    reader.inject("classes", {**klass, "sourcedId": "c-ghost-term",
                              "terms": [*klass["terms"], {"sourcedId": "no-term", "type": "academicSession"}]})

    result = synced.run("district")

    assert result.state == "applied"
    assert result.unresolved == {"enrollment.user": 2, "enrollment.class": 1, "class.terms": 1}
    unresolved = [w for w in result.warnings if w.code == "unresolved"]
    assert any("'nobody'" in w.message for w in unresolved)
    assert any("'no-term'" in w.message for w in unresolved)
    assert "e-ghost-both" in harness.live()[Kind.ENROLLMENT]  # stored as sent


def test_a_reference_to_a_record_deleted_in_the_same_run_is_unresolved(harness):
    reader = FakeReader.from_district(generate(seed=3, students=20))
    harness.add(hold_min_records=1000)
    sync = harness.sync_engine(reader)
    sync.run("district")
    klass = reader.collections["classes"][0]["sourcedId"]
    reader.replace("classes", reader.collections["classes"][1:])  # the class is withdrawn, its enrollments stay

    result = sync.run("district")

    expected = sum(1 for e in reader.collections["enrollments"] if e["class"]["sourcedId"] == klass)
    assert result.counts[Kind.CLASS].deleted == 1
    assert result.unresolved == {"enrollment.class": expected}
