"""Terminal errors from a real provider (the sandbox over loopback HTTP): the run fails with the
fix and the store is left as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.server import Sandbox, start_sandbox


@pytest.fixture
def store_url(tmp_path) -> str:
    """SQLite only: what is tested here does not depend on the database."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with start_sandbox(students=20, seed=3) as sandbox:
        yield sandbox


def test_refused_credentials_fail_the_run_with_the_fix_and_change_nothing(harness, box, connect):
    good = connect(box, "district")
    good.run("district")
    before = harness.snapshot("district")
    bad = connect(box, "wrong-secret", secret="not-the-secret-at-all")

    result = bad.run("wrong-secret")

    assert result.state == "failed"
    (error,) = result.errors
    assert "refused" in error.message.lower() and error.fix
    assert harness.live("wrong-secret") == {kind: {} for kind in Kind}
    assert harness.snapshot("district") == before
    assert harness.staged_count() == 0


def test_demographics_not_shared_is_a_terminal_error_naming_the_fix(harness, box, connect):
    sync = connect(box, "district")
    box.demographics = False  # the district did not tick Demographics in "Data to Share"

    result = sync.run("district")

    assert result.state == "failed"
    assert "Demographics" in result.errors[0].fix
    assert harness.live("district") == {kind: {} for kind in Kind}
