"""Schemathesis hooks for Berth's API fuzz run (scripts/fuzz-api).

Schemathesis reuses ids it saw in responses, so unguarded it stops, resets,
revokes and deletes objects the run did not make (FACTS.md): the first
operator, the admin token, other tenants. Before every call, a write (POST,
PUT, PATCH, DELETE) that names an id the run did not create gets, instead,
an id of the same shape that does not exist; after every call, the ids the
run created are remembered. Reads are left alone. The fuzz platform checks
afterwards that its bystanders are untouched (test/fuzz/fuzz-checks.ts).

One rule of the document cannot be stated in JSON Schema and lives in a
description: deleting a tenant's data needs confirm=<the slug>. A positive
case that asks for deleteData=true gets that confirm, as a client reading the
document would send it.
"""

import re

import schemathesis

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# kind -> (shape an existing id can have, an id of that shape no run creates)
KINDS = {
    "tenants": (re.compile(r"(?=.{3,32}\Z)[a-z](-?[a-z0-9])+", re.ASCII), "zz-fuzz-absent"),
    "tokens": (re.compile(r"[0-9a-f]{12}"), "000000000000"),
    "operators": (re.compile(r"[0-9a-f]{16}"), "0000000000000000"),
    # Job ids are UUIDs, but the route looks up any string: every one may exist.
    "upgrades": (re.compile(r".*", re.DOTALL), "00000000-0000-4000-8000-000000000000"),
    # Capacity measurements: the same, any string is looked up.
    "measurements": (re.compile(r".*", re.DOTALL), "00000000-0000-4000-8000-000000000000"),
}

# path template (after /api/v1) -> (path parameter, kind); each matches the
# path's start, so it also guards the writes below it (a tenant's actions and
# its owner-link reissue, an operator's disable and reset).
PATHS = [
    (re.compile(r"/tenants/\{slug\}"), "slug", "tenants"),
    (re.compile(r"/tokens/\{id\}"), "id", "tokens"),
    (re.compile(r"/operators/\{id\}"), "id", "operators"),
    (re.compile(r"/upgrades/\{id\}"), "id", "upgrades"),
    (re.compile(r"/capacity/measurements/\{id\}"), "id", "measurements"),
]

CREATED = {kind: set() for kind in KINDS}


def _guard(kind, value):
    """`value`, or the absent id of its kind when it may name an object the run did not create."""
    shape, absent = KINDS[kind]
    if not isinstance(value, str) or value in CREATED[kind] or not shape.fullmatch(value):
        return value
    return absent


def _api_path(case):
    return case.operation.path.removeprefix("/api/v1")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() not in WRITES:
        return
    path = _api_path(case)
    for pattern, param, kind in PATHS:
        if pattern.match(path) and case.path_parameters and param in case.path_parameters:
            case.path_parameters[param] = _guard(kind, case.path_parameters[param])
    body = case.body
    # Upgrade jobs and rollbacks name tenants in their bodies.
    if path.startswith("/upgrades") and path != "/upgrades/preview" and isinstance(body, dict) and isinstance(body.get("tenants"), list):
        body["tenants"] = [_guard("tenants", slug) for slug in body["tenants"]]
    # A tenant created with the absent slug would make it exist.
    if path == "/tenants" and case.method.upper() == "POST" and isinstance(body, dict) and body.get("slug") == KINDS["tenants"][1]:
        body["slug"] = "zz-fuzz-other"
    if path == "/tenants/{slug}" and case.method.upper() == "DELETE" and _positive(case):
        query = case.query if isinstance(case.query, dict) else None
        if query and query.get("deleteData") in (True, "true"):
            query["confirm"] = case.path_parameters.get("slug")


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and not meta.generation.mode.is_negative


@schemathesis.hook
def after_call(context, case, response):
    if case.method.upper() != "POST" or response.status_code not in (201, 202):
        return
    try:
        data = response.json()
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    path = _api_path(case)
    if path == "/tenants":
        slug = (data.get("tenant") or {}).get("slug")
        if slug:
            CREATED["tenants"].add(slug)
    elif path == "/tokens" and data.get("id"):
        CREATED["tokens"].add(data["id"])
    elif path == "/operators":
        operator_id = (data.get("operator") or {}).get("id")
        if operator_id:
            CREATED["operators"].add(operator_id)
    elif path.startswith("/upgrades") and data.get("id"):
        CREATED["upgrades"].add(data["id"])
    elif path == "/capacity/measurements" and data.get("id"):
        CREATED["measurements"].add(data["id"])
