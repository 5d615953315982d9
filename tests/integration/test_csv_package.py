"""CSV packages as a source: real third-party files, and hostile ones built here."""

from __future__ import annotations

import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from rostersync.errors import Terminal
from rostersync.oneroster.records import Record, RecordError
from rostersync.source.csvpackage import (
    CsvPackage,
    CsvPackageError,
    CsvRecordError,
    FileNotInPackage,
    Limits,
    PackageTooLarge,
)

# <repo>/../shared/data/fixtures: read-only third-party files (see their README.md).
FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fixtures"
MOODLE = FIXTURES / "moodle-csv"
CHALK = FIXTURES / "chalk-csv"

RESOURCES = ("orgs", "academicSessions", "demographics", "students", "teachers", "users", "courses", "classes",
             "enrollments")

MANIFEST_11 = (b"propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\n"
               b"file.orgs,bulk\r\nfile.users,bulk\r\n")
ORGS = b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
USERS = (b"sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
         b"middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n")


def manifest(*files: str) -> bytes:
    return b"propertyName,value\r\noneroster.version,1.1\r\n" + b"".join(
        f"file.{name},bulk\r\n".encode() for name in files)


def user_row(sid: str, role: str = "student", given: bytes = b"Ann") -> bytes:
    return sid.encode() + b",,,true,o1," + role.encode() + b",u" + sid.encode() + b",," + given + b",Lee,,,,,,,,\r\n"


def counts(package: CsvPackage) -> dict[str, int | None]:
    """Records read per resource (None: the package does not carry it); fails on any RecordError."""
    out: dict[str, int | None] = {}
    for resource in RESOURCES:
        if not package.has(resource):
            out[resource] = None
            continue
        items = list(package.read(resource))
        assert all(isinstance(i, Record) for i in items), [str(i) for i in items if isinstance(i, RecordError)]
        out[resource] = len(items)
    return out


def where(package: CsvPackage) -> list[tuple[str, int | None, str | None, str]]:
    return [(f.file, f.line, f.column, f.severity) for f in package.problems]


def make_zip(path: Path, entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def make_folder(path: Path, entries: dict[str, bytes]) -> Path:
    path.mkdir()
    for name, data in entries.items():
        (path / name).write_bytes(data)
    return path


# -- real files ------------------------------------------------------------------


def test_moodle_11_full_set():
    with CsvPackage.open(MOODLE / "Test_full_data_set.zip") as package:
        assert package.manifest.version.value == "1.1" and package.manifest.mode("users") == "bulk"
        assert package.manifest.mode("courses") == "absent"
        assert counts(package) == {"orgs": 1, "academicSessions": 5, "demographics": None, "students": 3,
                                   "teachers": 2, "users": 6, "courses": None, "classes": 2, "enrollments": 6}
        sessions = {s.sourced_id: s for s in package.read("academicSessions")}
        assert sessions["as-grp-222-2345"].status == "tobedeleted"  # 'inactive' in the file
        users = {u.sourced_id: u for u in package.read("users")}
        assert users["usr-222-66778899"].status == "active"  # blank status in a bulk file
        assert [i.type for i in users["usr-222-1234561"].user_ids] == ["LDAP", "LTI", "Fed"]
        assert users["usr-222-1234561"].role == "parent"
        assert not any("Password1-" in repr(u.raw) for u in users.values())
        physics = next(c for c in package.read("classes") if c.sourced_id == "cls-222-123456")
        assert physics.grades == ("09", "10", "11") and physics.class_type == "scheduled"
        assert physics.subject_codes == ("PHY123", "ASV120")
        with pytest.raises(FileNotInPackage):
            package.read("courses")
        assert where(package) == [
            ("academicSessions.csv", 4, "status", "warning"),
            ("academicSessions.csv", 4, "dateLastModified", "warning"),
            ("academicSessions.csv", 5, "dateLastModified", "warning"),
            ("users.csv", 2, "dateLastModified", "warning"),
            ("users.csv", 4, "dateLastModified", "warning"),
            ("users.csv", 5, "dateLastModified", "warning"),
            ("users.csv", 6, "dateLastModified", "warning"),
            ("users.csv", 7, "dateLastModified", "warning"),
            ("classes.csv", 2, "classType", "warning"),
        ]
        assert str(package.problems[0]) == ("academicSessions.csv line 4, column status: 'inactive' is the retired "
                                            "1.0 status; read as tobedeleted")
        assert package.problems[-1].message == "'Scheduled' read as 'scheduled'"


def test_moodle_11_minimal_set_with_blank_status_and_dates():
    with CsvPackage.open(MOODLE / "Test_minimal_data_set.zip") as package:
        assert counts(package) == {"orgs": 1, "academicSessions": 5, "demographics": None, "students": 3,
                                   "teachers": 2, "users": 6, "courses": None, "classes": 2, "enrollments": 6}
        assert all(e.status == "active" and e.date_last_modified is None for e in package.read("enrollments"))
        assert where(package) == [("classes.csv", 2, "classType", "warning")]


def test_moodle_12_delta_set_with_roles_profiles_and_demographics():
    with CsvPackage.open(MOODLE / "oneroster_test_data.zip") as package:
        manifest = package.manifest
        assert manifest.version.value == "1.2" and manifest.source_system_name == "DataGen"
        assert {manifest.mode(f) for f in ("users", "roles", "userProfiles", "demographics")} == {"delta"}
        assert package.mode("students") == "delta"
        assert counts(package) == {"orgs": 1, "academicSessions": 1, "demographics": 1, "students": 1,
                                   "teachers": 0, "users": 1, "courses": 1, "classes": 1, "enrollments": 1}
        (user,) = package.read("students")
        assert user.role == "student" and [o.sourced_id for o in user.orgs] == ["ORG_1"]
        assert user.raw["userProfiles"] == [{"profileId": "USER_PROFILE_1", "profileType": "SYSTEM",
                                             "vendorId": "WEI18954",
                                             "credentials": [{"type": "login", "username": "brucewayne"}]}]
        assert "Batman.Ru1ez" not in repr(user.raw)
        (demo,) = package.read("demographics")
        assert demo.sourced_id == "USER_0" and demo.birth_date == "2010-04-17"
        assert package.problems == []


def test_moodle_12_bulk_set_with_blank_manifest_values_and_a_misnamed_profiles_file():
    with CsvPackage.open(MOODLE / "v1p2_full_dataset.zip") as package:
        assert package.manifest.version.value == "1.2"
        assert package.manifest.mode("userProfiles") is None
        assert package.files["userProfiles"] == "userprofiles.csv"
        assert counts(package) == {"orgs": 1, "academicSessions": 5, "demographics": None, "students": 3,
                                   "teachers": 2, "users": 6, "courses": None, "classes": 2, "enrollments": 6}
        users = {u.sourced_id: u for u in package.read("users")}
        john = users["usr-222-123456"]
        assert [(r.role_type, r.role) for r in john.roles] == [("primary", "teacher"), ("secondary", "guardian")]
        assert john.pronouns == "he/him/his" and john.date_last_modified is None  # '1/05/2023' dropped
        assert john.raw["prefferedMiddleName"] == "Mick"  # unknown column kept
        assert "userProfiles" not in john.raw
        assert where(package) == [
            ("manifest.csv", 21, "value", "warning"),
            ("manifest.csv", 22, "value", "warning"),
            ("manifest.csv", 23, "value", "warning"),
            ("manifest.csv", None, "file.userProfiles", "warning"),
            ("academicSessions.csv", 4, "status", "warning"),
            ("academicSessions.csv", 4, "dateLastModified", "warning"),
            ("academicSessions.csv", 5, "dateLastModified", "warning"),
            ("roles.csv", 1, None, "warning"),
            ("roles.csv", 1, "dataLastModified", "warning"),
            ("userprofiles.csv", 1, "profileType, vendorId", "error"),
            ("users.csv", 1, "prefferedGivenName", "warning"),
            ("users.csv", 1, "prefferedMiddleName", "warning"),
            ("users.csv", 1, "prefferedFamilyName", "warning"),
            ("users.csv", 2, "dateLastModified", "error"),
            ("users.csv", 4, "dateLastModified", "error"),
            ("users.csv", 4, None, "warning"),
            ("users.csv", 5, "dateLastModified", "error"),
            ("users.csv", 6, "dateLastModified", "error"),
            ("users.csv", 7, "dateLastModified", "error"),
            ("classes.csv", 2, "classType", "warning"),
        ]
        messages = [str(f) for f in package.problems]
        assert "manifest.csv line 22, column value: file.userProfiles has no value" in messages
        assert "roles.csv line 1: the header ends with 2 blank column name(s); they were ignored" in messages
        assert ("roles.csv line 1, column dataLastModified: unknown column (did you mean dateLastModified?); "
                "kept as an extra field") in messages
        assert "users.csv line 4: roles.csv gives this user no primary role" in messages
        assert "users.csv line 7, column dateLastModified: '15/06/2023' is not an ISO 8601 date-time; ignored" \
            in messages
        assert any(m.startswith("userprofiles.csv line 1, column profileType, vendorId: missing from the header")
                   for m in messages)


def test_chalk_folder_with_rest_style_headers():
    with CsvPackage.open(CHALK) as package:
        assert package.manifest.version.value == "1.1" and package.manifest.source_system_name is None
        assert counts(package) == {"orgs": 1, "academicSessions": 1, "demographics": None, "students": 3,
                                   "teachers": 2, "users": 5, "courses": 1, "classes": 2, "enrollments": 5}
        assert len(list(package.read("schools"))) == 1
        (course,) = package.read("courses")
        assert course.org.sourced_id == "org-springfield" and course.school_year.sourced_id == "session-2026-fall"
        assert course.grades == ("9", "10")
        enrollment = next(iter(package.read("enrollments")))
        assert enrollment.user.sourced_id == "user-jdoe" and enrollment.class_.sourced_id == "class-alg1-A"
        assert where(package) == [
            ("orgs.csv", 1, "parent", "warning"),
            ("orgs.csv", 1, "children", "warning"),
            ("academicSessions.csv", 1, "parent", "warning"),
            ("academicSessions.csv", 1, "children", "warning"),
            ("users.csv", 1, "agents", "warning"),
            ("users.csv", 1, "orgs", "warning"),
            ("courses.csv", 1, "schoolYear", "warning"),
            ("courses.csv", 1, "org", "warning"),
            ("courses.csv", 2, "grades", "warning"),
            ("classes.csv", 1, "course", "warning"),
            ("classes.csv", 1, "school", "warning"),
            ("classes.csv", 1, "terms", "warning"),
            ("classes.csv", 2, "grades", "warning"),
            ("classes.csv", 3, "grades", "warning"),
            ("enrollments.csv", 1, "user", "warning"),
            ("enrollments.csv", 1, "class", "warning"),
            ("enrollments.csv", 1, "school", "warning"),
        ]
        assert str(package.problems[0]) == ("orgs.csv line 1, column parent: is a REST field name; "
                                            "read as parentSourcedId")


def test_a_package_one_folder_down_in_the_zip(tmp_path):
    entries = {f"export/{p.name}": p.read_bytes() for p in CHALK.iterdir()}
    entries["__MACOSX/export/._users.csv"] = b"\x00\x05\x16\x07junk"
    with CsvPackage.open(make_zip(tmp_path / "chalk.zip", entries)) as package:
        assert counts(package)["enrollments"] == 5
        assert package.files["users"] == "export/users.csv"
        assert package.problems[0].file == "export/orgs.csv"


def test_since_keeps_only_newer_records():
    with CsvPackage.open(MOODLE / "Test_full_data_set.zip") as package:
        newer = [u.sourced_id for u in package.read("users", since="2023-06-01T00:00:00Z")]
    # usr-222-567891 was modified 2023-06-15; usr-222-66778899 has no date, so it is kept.
    assert newer == ["usr-222-66778899", "usr-222-567891"]


# -- sloppy and hostile files ----------------------------------------------------------


def test_zip_path_traversal_entries_are_ignored_and_reported(tmp_path):
    evil = ORGS + b"evil,,,Evil,school,,\r\n"
    package_zip = make_zip(tmp_path / "p.zip", {
        "manifest.csv": MANIFEST_11, "orgs.csv": ORGS + b"o1,,,Good,school,,\r\n", "users.csv": USERS,
        "../orgs.csv": evil, "/etc/users.csv": evil, "C:/temp/orgs.csv": evil, "sub/../../orgs.csv": evil,
    })
    before = sorted(tmp_path.parent.rglob("*"))
    with CsvPackage.open(package_zip) as package:
        assert [o.sourced_id for o in package.read("orgs")] == ["o1"]
        unsafe = [f for f in package.problems if "unsafe path" in f.message]
    assert sorted(f.file for f in unsafe) == ["../orgs.csv", "/etc/users.csv", "C:/temp/orgs.csv",
                                              "sub/../../orgs.csv"]
    assert sorted(tmp_path.parent.rglob("*")) == before  # nothing was written anywhere


def test_a_zip_bomb_is_refused_before_inflating(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"manifest.csv": MANIFEST_11, "users.csv": USERS + b"0" * (5 << 20)})
    assert bomb.stat().st_size < 50_000
    with pytest.raises(PackageTooLarge, match=r"users\.csv would expand \d+ times .*zip bomb") as caught:
        CsvPackage.open(bomb)
    assert isinstance(caught.value, Terminal)


def test_size_bounds_per_file_and_in_total(tmp_path):
    with pytest.raises(PackageTooLarge, match=r"users\.csv would expand to .* limit per file"):
        CsvPackage.open(MOODLE / "Test_full_data_set.zip", limits=Limits(max_file_bytes=1000))
    with pytest.raises(PackageTooLarge, match="CSV files would expand to"):
        CsvPackage.open(MOODLE / "Test_full_data_set.zip", limits=Limits(max_total_bytes=4000))
    folder = make_folder(tmp_path / "big", {"manifest.csv": MANIFEST_11, "users.csv": USERS + user_row("1") * 50})
    with CsvPackage.open(folder, limits=Limits(max_file_bytes=2000)) as package:
        with pytest.raises(PackageTooLarge, match="users.csv"):
            list(package.read("users"))


def test_not_a_zip(tmp_path):
    fake = tmp_path / "roster.zip"
    fake.write_bytes(b"sourcedId,name\n")
    with pytest.raises(CsvPackageError, match=r"roster\.zip is not a readable zip file"):
        CsvPackage.open(fake)
    with pytest.raises(CsvPackageError, match="does not exist"):
        CsvPackage.open(tmp_path / "missing.zip")


def test_a_corrupt_zip_entry_breaks_off_with_an_error_naming_the_file(tmp_path):
    rows = b"".join(user_row(str(i)) for i in range(2000))
    path = make_zip(tmp_path / "corrupt.zip", {"manifest.csv": MANIFEST_11, "users.csv": USERS + rows})
    data = bytearray(path.read_bytes())
    start = data.index(b"users.csv") + 200  # inside the compressed data of users.csv
    data[start:start + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with CsvPackage.open(path) as package:
        with pytest.raises(CsvPackageError, match=r"users\.csv.*corrupt"):
            list(package.read("users"))


def test_an_encrypted_entry_is_refused(tmp_path):
    path = make_zip(tmp_path / "locked.zip", {"manifest.csv": MANIFEST_11, "users.csv": USERS})
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = -1
        while (at := data.find(signature, at + 1)) != -1:
            data[at + offset] |= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CsvPackageError, match="encrypted"):
        CsvPackage.open(path)


def test_bytes_that_are_not_utf8_skip_only_their_row(tmp_path):
    folder = make_folder(tmp_path / "latin1", {
        "manifest.csv": manifest("users"),
        "users.csv": b"\xef\xbb\xbf" + USERS + user_row("1") + user_row("2", given=b"Ren\xe9e") + user_row("3"),
    })
    with CsvPackage.open(folder) as package:
        items = list(package.read("users"))
        assert [i.sourced_id for i in items if isinstance(i, Record)] == ["1", "3"]
        (error,) = [i for i in items if isinstance(i, RecordError)]
        assert isinstance(error, CsvRecordError)
        assert (error.finding.file, error.finding.line, error.finding.column) == ("users.csv", 3, "givenName")
        assert "not UTF-8" in str(error)
        assert package.problems == [error.finding]


def test_utf16_files_get_a_clear_error(tmp_path):
    folder = make_folder(tmp_path / "utf16", {"manifest.csv": MANIFEST_11,
                                              "users.csv": (USERS + user_row("1")).decode().encode("utf-16")})
    with CsvPackage.open(folder) as package:
        with pytest.raises(CsvPackageError, match="users.csv line 1: the file is UTF-16; save it as UTF-8"):
            list(package.read("users"))


def test_ragged_rows_are_yielded_as_errors_in_place(tmp_path):
    path = make_zip(tmp_path / "ragged.zip", {
        "manifest.csv": manifest("orgs"),
        "orgs.csv": ORGS + b"o1,,,One,school,,\r\no2,,,Two\r\no3,,,Three,school,,,extra\r\n,,,Nameless,school,,\r\n"
                           b"o5,,,Five,school,,\r\n",
    })
    with CsvPackage.open(path) as package:
        items = list(package.read("orgs"))
        assert [i.sourced_id if isinstance(i, Record) else i.finding.line for i in items] == ["o1", 3, 4, 5, "o5"]
        assert [str(f) for f in package.problems] == [
            "orgs.csv line 3: 4 cells where the header has 7; row skipped",
            "orgs.csv line 4: 8 cells where the header has 7; row skipped",
            "orgs.csv line 5, column sourcedId: row has no sourcedId; row skipped",
        ]


def test_a_one_megabyte_cell_is_reported_and_skipped(tmp_path):
    folder = make_folder(tmp_path / "huge", {
        "manifest.csv": MANIFEST_11,
        "users.csv": USERS + user_row("1", given=b"x" * (1 << 20)) + user_row("2"),
    })
    with CsvPackage.open(folder) as package:
        items = list(package.read("users"))
        assert [type(i).__name__ for i in items] == ["CsvRecordError", "User"]
        assert items[0].finding.line == 2 and "longer than 131072 characters" in str(items[0])


def test_an_overlong_line_is_cut_off_before_parsing(tmp_path):
    folder = make_folder(tmp_path / "long", {
        "manifest.csv": MANIFEST_11,
        "users.csv": USERS + user_row("1") + user_row("2", given=b"y" * 20_000) + user_row("3"),
    })
    with CsvPackage.open(folder, limits=Limits(max_line_bytes=4096)) as package:
        items = list(package.read("users"))
        assert [i.sourced_id if isinstance(i, Record) else i.finding.line for i in items] == ["1", 3, "3"]
        assert "longer than 4.0 KiB" in str(items[1])


def test_a_folder_without_manifest_is_read_as_11_bulk(tmp_path):
    folder = make_folder(tmp_path / "plain", {"Orgs.csv": ORGS + b"o1,,,One,school,,\r\n"})
    with CsvPackage.open(folder) as package:
        assert package.manifest.version.value == "1.1" and not package.manifest.declared
        assert package.manifest.mode("orgs") == "bulk"
        assert [o.name for o in package.read("orgs")] == ["One"]
        assert [str(f) for f in package.problems] == ["manifest.csv: no manifest.csv; read as a OneRoster 1.1 "
                                                       "bulk package"]


def test_manifest_and_files_that_disagree(tmp_path):
    manifest = MANIFEST_11 + b"file.enrollments,bulk\r\nfile.classes,absent\r\n"
    folder = make_folder(tmp_path / "disagree", {
        "manifest.csv": manifest, "orgs.csv": ORGS, "users.csv": USERS, "classes.csv": b"sourcedId\r\nc1\r\n",
        "courses.csv": b"sourcedId,title,orgSourcedId\r\nk1,Algebra,o1\r\n",
    })
    with CsvPackage.open(folder) as package:
        assert not package.has("enrollments") and not package.has("classes")
        assert package.mode("courses") == "bulk" and package.mode("classes") is None
        with pytest.raises(FileNotInPackage, match="the package has no enrollments.csv") as caught:
            package.read("enrollments")
        assert not isinstance(caught.value, Terminal)  # the sync goes on with the other collections
        with pytest.raises(FileNotInPackage, match="manifest.csv marks classes.csv absent"):
            package.read("classes")
        assert [c.title for c in package.read("courses")] == ["Algebra"]
        assert [str(f) for f in package.problems] == [
            "manifest.csv, column file.classes: says absent but classes.csv is present; the file was not read",
            "manifest.csv, column file.courses: is not listed; courses.csv read as bulk",
            "manifest.csv, column file.enrollments: says bulk but the package has no enrollments.csv",
        ]


def test_a_delta_package_without_a_file_has_no_changes_for_it(tmp_path):
    manifest = b"propertyName,value\noneroster.version,1.1\nfile.orgs,delta\nfile.users,absent\n"
    folder = make_folder(tmp_path / "delta", {"manifest.csv": manifest,
                                              "orgs.csv": ORGS + b"o1,tobedeleted,2026-09-02T08:00:00Z,One,school,,\n"})
    with CsvPackage.open(folder) as package:
        assert package.mode("orgs") == "delta" and not package.has("students")
        assert list(package.read("students")) == []
        assert [o.deleted for o in package.read("orgs")] == [True]
        assert package.problems == []


def test_12_users_without_roles_file_are_reported(tmp_path):
    manifest = b"propertyName,value\noneroster.version,1.2\nfile.users,bulk\n"
    users = b"sourcedId,enabledUser,givenName,familyName\nu1,true,Jo,Lee\n"
    with CsvPackage.open(make_folder(tmp_path / "noroles", {"manifest.csv": manifest, "users.csv": users})) as pkg:
        (user,) = pkg.read("users")
        assert user.roles == () and list(pkg.read("students")) == []
        assert [str(f) for f in pkg.problems] == ["users.csv line 2: no row of roles.csv names this user"]


def test_12_users_cannot_be_read_when_roles_csv_is_unreadable(tmp_path):
    manifest = b"propertyName,value\noneroster.version,1.2\nfile.users,bulk\nfile.roles,bulk\n"
    users = b"sourcedId,enabledUser,givenName,familyName\nu1,true,Jo,Lee\n"
    roles = b"sourcedId,userSourcedId,orgSourcedId\nr1,u1,o1\n"
    folder = make_folder(tmp_path / "badroles", {"manifest.csv": manifest, "users.csv": users, "roles.csv": roles})
    with CsvPackage.open(folder) as package:
        with pytest.raises(CsvPackageError, match="roles.csv line 1, column role: missing from the header"):
            list(package.read("teachers"))


def test_a_zip_holding_two_packages_is_refused(tmp_path):
    path = make_zip(tmp_path / "two.zip", {"a/manifest.csv": MANIFEST_11, "b/manifest.csv": MANIFEST_11})
    with pytest.raises(CsvPackageError, match=r"several OneRoster packages \(a, b\)"):
        CsvPackage.open(path)


def test_symbolic_links_in_a_folder_are_not_followed(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(USERS + user_row("stolen"))
    folder = make_folder(tmp_path / "links", {"manifest.csv": MANIFEST_11, "orgs.csv": ORGS})
    (folder / "users.csv").symlink_to(secret)
    with CsvPackage.open(folder) as package:
        assert not package.has("users")
        assert ("users.csv", None, None, "error") in where(package)


def test_memory_stays_flat_on_a_large_file(tmp_path):
    rows = b"".join(user_row(str(i), "teacher" if i % 10 == 0 else "student") for i in range(20_000))
    folder = make_folder(tmp_path / "large", {"manifest.csv": MANIFEST_11, "users.csv": USERS + rows})
    size = (folder / "users.csv").stat().st_size
    with CsvPackage.open(folder) as package:
        tracemalloc.start()
        try:
            seen = Counter(type(r).__name__ for r in package.read("students"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == {"User": 18_000}
    assert peak < size / 2, f"peak {peak} bytes reading a {size}-byte file"
