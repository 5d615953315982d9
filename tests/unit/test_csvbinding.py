"""The OneRoster CSV binding: rows to REST-shaped records, leniently, with precise findings."""

from __future__ import annotations

import io

import pytest

from rostersync.oneroster.csvbinding import (
    FILES,
    MAX_CELL,
    CsvFormatError,
    Finding,
    Row,
    RowReader,
    canonical_file,
    parse_manifest,
    profile_entry,
    role_entry,
)
from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.records import parse_record

ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
CLASSES = ("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
           "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\r\n")
USERS_11 = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
            "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n")


def read(text: str, name: str, *, version: Version = Version.V1P1, mode: str = "bulk"):
    findings: list[Finding] = []
    reader = RowReader(io.StringIO(text, newline=""), spec=FILES[name], version=version, mode=mode,
                       report=findings.append)
    items = list(reader)
    rows = [i for i in items if isinstance(i, Row)]
    skipped = [i for i in items if isinstance(i, Finding)]
    return rows, skipped, findings


def where(findings):
    return [(f.file, f.line, f.column, f.severity) for f in findings]


# -- manifest ----------------------------------------------------------------


def test_manifest_reads_version_modes_and_source_and_reports_blank_values():
    text = ("\ufeffpropertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.2.1\r\n"
            "file.users,BULK\r\nfile.userprofiles,\r\nfile.orgs,absent\r\nfile.classes,sometimes\r\n"
            "source.systemName,Campus\r\nsource.systemCode,\r\nsurprise,1\r\n")
    findings: list[Finding] = []
    manifest = parse_manifest(io.StringIO(text, newline=""), report=findings.append)
    assert manifest.version is Version.V1P2
    assert manifest.files == {"users": "bulk", "userProfiles": None, "orgs": "absent", "classes": None}
    assert manifest.source_system_name == "Campus" and manifest.source_system_code is None
    assert manifest.manifest_version == "1.0"
    assert where(findings) == [
        ("manifest.csv", 5, "value", "warning"),
        ("manifest.csv", 7, "value", "warning"),
        ("manifest.csv", 10, "propertyName", "warning"),
    ]
    assert "file.userprofiles has no value" in findings[0].message
    assert "'sometimes'" in findings[1].message


def test_manifest_without_a_usable_version_falls_back_and_says_so():
    findings: list[Finding] = []
    manifest = parse_manifest(["propertyName,value\n", "oneroster.version,\n"], report=findings.append,
                              fallback_version=Version.V1P2)
    assert manifest.version is Version.V1P2
    assert [str(f) for f in findings] == ["manifest.csv line 2, column value: oneroster.version '' is not 1.1 or "
                                          "1.2; read as 1.2"]


def test_file_names_match_whatever_their_case():
    assert canonical_file("userprofiles.csv") == "userProfiles"
    assert canonical_file("ACADEMICSESSIONS.CSV") == "academicSessions"
    assert canonical_file("lineItems.csv") is None


# -- rows ----------------------------------------------------------------------


def test_bom_crlf_and_quoted_multi_value_cells():
    text = ("\ufeff" + CLASSES + 'c1,,,Physics,"09,10",crs1,P1,scheduled,Room 2,sch1,"t1, t2",'
            '"Science, Physics","PHY1",1\r\n')
    rows, skipped, findings = read(text, "classes")
    assert not skipped and not findings
    record = rows[0].record
    assert record["sourcedId"] == "c1" and rows[0].line == 2
    assert record["grades"] == ["09", "10"]
    assert record["terms"] == [{"sourcedId": "t1", "type": "academicSession"},
                               {"sourcedId": "t2", "type": "academicSession"}]
    assert record["subjects"] == ["Science", "Physics"]
    assert record["course"] == {"sourcedId": "crs1", "type": "course"}
    typed = parse_record(Kind.CLASS, record)
    assert typed.terms[1].sourced_id == "t2" and typed.grades == ("09", "10") and not typed.problems


def test_bulk_rows_with_blank_status_are_active_and_blank_fields_are_omitted():
    rows, skipped, findings = read(ORGS + "o1,,,Springfield,school,,\r\n", "orgs")
    assert rows[0].record == {"sourcedId": "o1", "status": "active", "name": "Springfield", "type": "school"}
    assert not skipped and not findings


def test_delta_rows_keep_their_status_and_blank_ones_are_reported():
    text = (ORGS + "o1,tobedeleted,2026-09-01T10:00:00.000Z,Old,school,,\r\n"
            "o2,,,New,school,,\r\n"
            "o3,inactive,2026-09-01T10:00:00Z,Gone,school,,\r\n")
    rows, _, findings = read(text, "orgs", mode="delta")
    assert [r.record["status"] for r in rows] == ["tobedeleted", "active", "tobedeleted"]
    assert where(findings) == [
        ("orgs.csv", 3, "status", "warning"),
        ("orgs.csv", 3, "dateLastModified", "warning"),
        ("orgs.csv", 4, "status", "warning"),
    ]
    assert "retired" in findings[2].message


def test_missing_optional_columns_are_fine_and_missing_required_ones_reported_once():
    rows, skipped, findings = read("sourcedId,name\no1,Springfield\no2,Shelbyville\n", "orgs")
    assert [r.record["name"] for r in rows] == ["Springfield", "Shelbyville"]
    assert where(findings) == [("orgs.csv", 1, "type", "warning")]
    assert "requires" in findings[0].message


def test_a_file_without_a_sourcedid_column_is_not_read():
    with pytest.raises(CsvFormatError) as caught:
        read("id,name\no1,Springfield\n", "orgs")
    assert caught.value.finding.line == 1 and caught.value.finding.column == "sourcedId"
    assert "id, name" in str(caught.value)


def test_an_empty_file_is_an_error_not_an_empty_roster():
    with pytest.raises(CsvFormatError, match="empty"):
        read("\r\n\r\n", "users")


def test_unknown_columns_are_kept_and_reported_with_a_suggestion():
    text = "sourcedId,name,type,districtCode,metadata.ic.schoolNumber,identifer\no1,Springfield,school,D7,0042,x\n"
    rows, _, findings = read(text, "orgs")
    record = rows[0].record
    assert record["districtCode"] == "D7" and record["identifer"] == "x"
    assert record["metadata"] == {"ic.schoolNumber": "0042"}
    assert [(f.column, f.message) for f in findings] == [
        ("districtCode", "unknown column; kept as an extra field"),
        ("identifer", "unknown column (did you mean identifier?); kept as an extra field"),
    ]
    typed = parse_record(Kind.ORG, record)
    assert typed.raw["districtCode"] == "D7" and typed.metadata == {"ic.schoolNumber": "0042"}


def test_rest_field_names_and_odd_case_in_the_header_are_read_and_reported():
    text = "SourcedId,name,type,parent\no2,East,school,o1\n"
    rows, _, findings = read(text, "orgs")
    assert rows[0].record["parent"] == {"sourcedId": "o1", "type": "org"}
    assert [(f.column, f.message) for f in findings] == [
        ("SourcedId", "read as sourcedId (column names are case-sensitive)"),
        ("parent", "is a REST field name; read as parentSourcedId"),
    ]


def test_ragged_rows_are_skipped_with_file_and_line():
    text = (ORGS + "o1,,,One,school,,\r\n"
            "o2,,,Two,school\r\n"  # too few
            "o3,,,Three,school,,,surplus\r\n"  # too many
            "o4,,,Four,school,,,,\r\n"  # trailing empty cells: harmless
            "o5,,,Five,school,,\r\n")
    rows, skipped, _ = read(text, "orgs")
    assert [r.sourced_id for r in rows] == ["o1", "o4", "o5"]
    assert [str(f) for f in skipped] == [
        "orgs.csv line 3: 5 cells where the header has 7; row skipped",
        "orgs.csv line 4: 8 cells where the header has 7; row skipped",
    ]
    assert all(f.severity == "error" for f in skipped)


def test_trailing_blank_header_names_do_not_make_every_row_ragged():
    rows, skipped, findings = read("sourcedId,name,type,,\no1,One,school\n", "orgs")
    assert len(rows) == 1 and not skipped
    assert [f.message for f in findings] == ["the header ends with 2 blank column name(s); they were ignored"]


def test_a_row_without_sourcedid_is_skipped():
    rows, skipped, _ = read(ORGS + ",,,Nameless,school,,\r\no2,,,Two,school,,\r\n", "orgs")
    assert [r.sourced_id for r in rows] == ["o2"]
    assert where(skipped) == [("orgs.csv", 2, "sourcedId", "error")]


def test_line_numbers_count_physical_lines_across_quoted_newlines():
    text = ORGS + 'o1,,,"Two\r\nline name",school,,\r\no2,,,Two,school\r\n'
    rows, skipped, _ = read(text, "orgs")
    assert rows[0].record["name"] == "Two\r\nline name"
    assert where(skipped) == [("orgs.csv", 4, None, "error")]


def test_bytes_that_are_not_utf8_skip_the_row_and_name_the_column():
    bad = b"o2,,,Caf\xe9,school,,\r\n".decode("utf-8", "surrogateescape")
    rows, skipped, _ = read(ORGS + "o1,,,One,school,,\r\n" + bad + "o3,,,Three,school,,\r\n", "orgs")
    assert [r.sourced_id for r in rows] == ["o1", "o3"]
    assert where(skipped) == [("orgs.csv", 3, "name", "error")]
    assert "UTF-8" in skipped[0].message


def test_a_huge_cell_is_reported_and_the_next_row_still_read():
    huge = "x" * (MAX_CELL + 10)
    rows, skipped, _ = read(ORGS + f"o1,,,{huge},school,,\r\no2,,,Two,school,,\r\n", "orgs")
    assert [r.sourced_id for r in rows] == ["o2"]
    assert [str(f) for f in skipped] == [f"orgs.csv line 2: a cell is longer than {MAX_CELL} characters; row skipped"]


def test_enum_case_booleans_and_space_separated_grades_are_fixed_up_and_reported():
    text = CLASSES + "c1,Active,,Algebra,9 10,crs1,,Scheduled,,sch1,t1,,,\r\n"
    rows, _, findings = read(text, "classes")
    record = rows[0].record
    assert record["status"] == "active" and record["classType"] == "scheduled"
    assert record["grades"] == ["9", "10"]
    assert [f.column for f in findings] == ["status", "grades", "classType"]
    users = USERS_11 + "u1,,,TRUE,o1,Student,ann,,Ann,Lee,,,,,,,,\r\n"
    rows, _, _ = read(users, "users")
    assert rows[0].record["enabledUser"] == "true" and rows[0].record["role"] == "student"


def test_dates_without_time_are_read_and_unreadable_ones_dropped():
    text = ORGS + "o1,,2023-05-01,One,school,,\r\no2,,1/05/2023,Two,school,,\r\n"
    rows, _, findings = read(text, "orgs")
    assert rows[0].record["dateLastModified"] == "2023-05-01T00:00:00Z"
    assert "dateLastModified" not in rows[1].record
    assert where(findings) == [("orgs.csv", 2, "dateLastModified", "warning"),
                               ("orgs.csv", 3, "dateLastModified", "error")]


def test_users_11_shape_userids_and_no_password():
    text = USERS_11 + ('u1,,,true,"o1,o2",teacher,jdoe,"{LDAP:12},{LTI:15}",John,Doe,,,,,,p1,,Secret-1\r\n'
                       "u2,,,true,o1,student,ann,LDAP=12,Ann,Lee,,,,,,,,\r\n")
    rows, _, findings = read(text, "users")
    record = rows[0].record
    assert "password" not in record and "Secret-1" not in repr(record)
    assert record["orgs"] == [{"sourcedId": "o1", "type": "org"}, {"sourcedId": "o2", "type": "org"}]
    assert record["userIds"] == [{"type": "LDAP", "identifier": "12"}, {"type": "LTI", "identifier": "15"}]
    assert record["agents"] == [{"sourcedId": "p1", "type": "user"}]
    user = parse_record(Kind.USER, record, Version.V1P1)
    assert user.role == "teacher" and [o.sourced_id for o in user.orgs] == ["o1", "o2"] and not user.problems
    assert "userIds" not in rows[1].record
    assert where(findings) == [("users.csv", 3, "userIds", "warning")]


def test_users_12_columns_map_to_rest_names():
    text = ("sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,userMasterIdentifier,"
            "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n"
            "u1,active,2026-01-01T00:00:00Z,true,,Jo,Lee,M-1,Joey,,Li,o1,they/them\n")
    rows, _, findings = read(text, "users", version=Version.V1P2)
    record = rows[0].record
    assert record["preferredFirstName"] == "Joey" and record["preferredLastName"] == "Li"
    assert record["primaryOrg"] == {"sourcedId": "o1", "type": "org"}
    assert record["userMasterIdentifier"] == "M-1" and "username" not in record
    assert not findings


def test_roles_and_user_profiles_become_rest_entries_without_passwords():
    roles = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
             "userProfileSourcedId\nr1,,,u1,Primary,teacher,2026-08-01,,o1,p1\n")
    rows, _, _ = read(roles, "roles", version=Version.V1P2)
    assert role_entry(rows[0].record) == {"roleType": "primary", "role": "teacher",
                                          "org": {"sourcedId": "o1", "type": "org"}, "userProfile": "p1",
                                          "beginDate": "2026-08-01"}
    profiles = ("sourcedId,status,dateLastModified,userSourcedId,profileType,vendorId,applicationId,description,"
                "credentialType,username,password\np1,,,u1,SYSTEM,V1,,,login,jlee,hunter2\n")
    rows, _, _ = read(profiles, "userProfiles", version=Version.V1P2)
    entry = profile_entry(rows[0].record)
    assert entry == {"profileId": "p1", "profileType": "SYSTEM", "vendorId": "V1",
                     "credentials": [{"type": "login", "username": "jlee"}]}
    assert "hunter2" not in repr(rows[0].record)


def test_a_roles_file_without_a_role_column_is_not_read():
    with pytest.raises(CsvFormatError) as caught:
        read("sourcedId,userSourcedId,orgSourcedId\nr1,u1,o1\n", "roles", version=Version.V1P2)
    assert caught.value.finding.column == "role"
