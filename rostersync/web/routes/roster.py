"""The roster browser: schools, a school's classes, a class roster, a person's classes, search."""

from __future__ import annotations

from fastapi import APIRouter, Request

from .. import links, queries, roster_queries as rq
from ..deps import UserDep, not_found, render, services

router = APIRouter()


def _context(conn, district_id: int):
    district = links.get_district(district_id, conn=conn)
    if district is None:
        raise not_found("district")
    connection = queries.connection_row(district.connection_name, conn=conn)
    if connection is None:
        raise not_found("roster (the district has not sent its credentials yet)")
    return district, connection.id


@router.get("/districts/{district_id}/roster")
def schools_page(request: Request, district_id: int, q: str = "", user=UserDep):
    with services(request).engine.connect() as conn:
        district, cid = _context(conn, district_id)
        hits = rq.search(cid, q, conn=conn) if q.strip() else []
        schools = [] if q.strip() else rq.schools(cid, conn=conn)
    return render(request, "roster_schools.html", {"district": district, "schools": schools, "q": q[:200],
                                                   "hits": hits}, user=user)


@router.get("/districts/{district_id}/roster/schools/{sourced_id}")
def school_page(request: Request, district_id: int, sourced_id: str, user=UserDep):
    with services(request).engine.connect() as conn:
        district, cid = _context(conn, district_id)
        school = rq.org(cid, sourced_id, conn=conn)
        if school is None:
            raise not_found("school")
        classes = rq.classes_of_school(cid, sourced_id, conn=conn)
    return render(request, "roster_school.html", {"district": district, "school": school, "classes": classes},
                  user=user)


@router.get("/districts/{district_id}/roster/classes/{sourced_id}")
def class_page(request: Request, district_id: int, sourced_id: str, user=UserDep):
    with services(request).engine.connect() as conn:
        district, cid = _context(conn, district_id)
        klass = rq.class_(cid, sourced_id, conn=conn)
        if klass is None:
            raise not_found("class")
        school = rq.org(cid, klass["school_sourced_id"], conn=conn) if klass.get("school_sourced_id") else None
        people = rq.class_roster(cid, sourced_id, conn=conn)
    teachers = [p for p in people if p["role"] in ("teacher", "administrator", "proctor", "aide")]
    students = [p for p in people if p not in teachers]
    return render(request, "roster_class.html", {"district": district, "klass": klass, "school": school,
                                                 "teachers": teachers, "students": students}, user=user)


@router.get("/districts/{district_id}/roster/people/{sourced_id}")
def person_page(request: Request, district_id: int, sourced_id: str, user=UserDep):
    with services(request).engine.connect() as conn:
        district, cid = _context(conn, district_id)
        person = rq.person(cid, sourced_id, conn=conn)
        if person is None:
            raise not_found("person")
        classes = rq.classes_of_person(cid, sourced_id, conn=conn)
    return render(request, "roster_person.html", {"district": district, "person": person, "classes": classes},
                  user=user)
