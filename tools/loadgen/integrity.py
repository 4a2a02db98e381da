"""After a run: is what the service acknowledged really stored, once, and is what it deleted gone?

The ledger learns from the answers: a create answered 2xx must exist exactly once with
the fields that were sent (or those of its last acknowledged update); a delete answered
2xx (204) must be gone; a create answered 409 must have met a real duplicate (a unique
value that an acknowledged write of the run had stored, or that is stored now). A write
without an answer (timeout, 5xx) leaves its resource uncertain, and it is not judged.
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from tools.loadgen.scenario import IntegritySpec, MissingValue, RequestSpec, render

DEFAULT_CREATE_ID = "${response.json.id}"
READ_CONCURRENCY = 8
MIN_AFTER_RUN_TIMEOUT_SECONDS = 30.0  # the check and the cleanup may list or delete a large table
MAX_LISTED = 1_000_000  # the listing of a service under test is bounded too


def after_run_timeout(request_timeout: float) -> float:
    """The per-request timeout of the check's and the cleanup's requests: the run's, or more."""
    return max(MIN_AFTER_RUN_TIMEOUT_SECONDS, request_timeout)


class UnlistedError(RuntimeError):
    """The service did not answer the listing the check reads."""


@dataclass
class Ledger:
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> fields as last acknowledged
    deleted: set[str] = field(default_factory=set)
    delete_statuses: dict[str, int] = field(default_factory=dict)  # id -> the 2xx its delete was answered
    uncertain: set[str] = field(default_factory=set)
    unacknowledged_creates: int = 0
    # Unique values (field, value lowercased) that acknowledged writes stored, and those a 409 refused.
    stored_unique: set[tuple[str, str]] = field(default_factory=set)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def note(self, step: RequestSpec, context: Mapping[str, Any], body: Any, answer: Optional[Mapping[str, Any]],
             integrity: Optional[IntegritySpec]) -> None:
        status = answer["status"] if answer else 0
        acknowledged = 200 <= status < 300
        refused = 400 <= status < 500
        fields = tuple(integrity.compare) if integrity else ()
        sent = {name: body[name] for name in fields if isinstance(body, Mapping) and name in body}
        unique = {name: str(body[name]) for name in (integrity.unique if integrity else ())
                  if isinstance(body, Mapping) and body.get(name) is not None}
        if step.records in ("create", "update") and acknowledged:
            self.stored_unique.update((name, value.lower()) for name, value in unique.items())
        if step.records == "create" and status == 409 and unique:
            self.conflicts.append(unique)
            return
        try:
            resource_id = str(render(step.id_template or DEFAULT_CREATE_ID, {**context, "response": answer or {}}))
        except MissingValue:
            if step.records == "create" and not refused:
                self.unacknowledged_creates += 1
            return
        if step.records == "create":
            if acknowledged:
                self.expected[resource_id] = sent
        elif step.records == "update":
            if acknowledged and resource_id in self.expected:
                self.expected[resource_id] = {**self.expected[resource_id], **sent}
            elif not refused:
                self.uncertain.add(resource_id)
        elif step.records == "delete":
            if acknowledged:
                self.deleted.add(resource_id)
                self.delete_statuses[resource_id] = status
            elif not refused:
                self.uncertain.add(resource_id)


@dataclass
class IntegrityReport:
    checked_present: int = 0  # acknowledged creates checked (not: found present)
    checked_gone: int = 0  # acknowledged deletes checked (not: found gone)
    stored_as_sent: int = 0  # of the creates checked, those listed once with what was sent (or last updated)
    gone: int = 0  # of the deletes checked, those neither listed nor read
    checked_conflicts: int = 0
    uncertain: int = 0
    unacknowledged_creates: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)  # acknowledged, not stored as sent
    extra: list[dict[str, Any]] = field(default_factory=list)  # deleted yet there, or stored twice
    listed: int = 0
    error: Optional[str] = None  # the check could not be made (the service did not answer the listing)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra and self.error is None

    def summary(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked_present": self.checked_present, "checked_gone": self.checked_gone,
                "stored_as_sent": self.stored_as_sent, "gone": self.gone,
                "checked_conflicts": self.checked_conflicts,
                "uncertain": self.uncertain, "unacknowledged_creates": self.unacknowledged_creates,
                "listed": self.listed, "missing": self.missing[:50], "extra": self.extra[:50],
                "missing_count": len(self.missing), "extra_count": len(self.extra), "error": self.error}


def _with_param(path: str, name: str, value: str) -> str:
    parts = urlsplit(path)
    query = [(key, val) for key, val in parse_qsl(parts.query) if key != name] + [(name, value)]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


async def _list_all(session: Any, base_url: str, spec: IntegritySpec) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = []
    path: Optional[str] = spec.list
    cursors: set[str] = set()
    while path is not None and len(items) < MAX_LISTED:
        async with session.get(base_url + path) as response:
            if response.status != 200:
                raise UnlistedError(f"GET {path} answered {response.status}; cannot check integrity")
            try:
                page = json.loads(await response.read())
            except ValueError:
                page = None
            cursor = response.headers.get(spec.cursor_header)
        # A listing that is not one (an object, a page of text) failed the check with a traceback.
        if not isinstance(page, list) or not all(isinstance(item, Mapping) for item in page):
            raise UnlistedError(f"GET {path} answered no JSON array of objects; cannot check integrity "
                                "(integrity.list names the listing of the resources)")
        if cursor in cursors:  # an empty page repeating its cursor was never left
            raise UnlistedError(f"GET {path} answered a cursor it had answered before ({cursor}); "
                                "cannot check integrity")
        items.extend(page)
        if cursor:
            cursors.add(cursor)
        path = _with_param(spec.list, spec.cursor_param, cursor) if cursor else None
    return items


async def check_integrity_async(base_url: str, spec: IntegritySpec, ledger: Ledger,
                                headers: Optional[Mapping[str, str]] = None,
                                timeout: float = MIN_AFTER_RUN_TIMEOUT_SECONDS) -> IntegrityReport:
    import aiohttp

    base_url = base_url.rstrip("/")
    report = IntegrityReport(uncertain=len(ledger.uncertain), unacknowledged_creates=ledger.unacknowledged_creates)
    try:
        async with aiohttp.ClientSession(headers=dict(headers or {}),
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            await _compare(session, base_url, spec, ledger, report)
    except UnlistedError as exc:
        report.error = str(exc)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # the service stopped answering
        report.error = f"no answer from {base_url} ({type(exc).__name__}: {exc}); cannot check integrity"
    return report


async def _compare(session: Any, base_url: str, spec: IntegritySpec, ledger: Ledger,
                   report: IntegrityReport) -> None:
    listed = await _list_all(session, base_url, spec)
    report.listed = len(listed)
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for item in listed:
        by_id.setdefault(str(item.get(spec.id_field)), []).append(item)

    for resource_id, fields in ledger.expected.items():
        if resource_id in ledger.deleted or resource_id in ledger.uncertain:
            continue
        report.checked_present += 1
        found = by_id.get(resource_id, [])
        if not found:
            report.missing.append({"id": resource_id, "problem": "acknowledged but not listed", "sent": fields})
        elif len(found) > 1:
            report.extra.append({"id": resource_id, "problem": f"listed {len(found)} times"})
        else:
            differs = {name: {"sent": value, "stored": found[0].get(name)} for name, value in fields.items()
                       if found[0].get(name) != value}
            if differs:
                report.missing.append({"id": resource_id, "problem": "stored differently", "fields": differs})
            else:
                report.stored_as_sent += 1

    gone = sorted(ledger.deleted - ledger.uncertain)
    slots = asyncio.Semaphore(READ_CONCURRENCY)

    async def still_there(resource_id: str) -> Optional[dict[str, Any]]:
        answered = f"delete answered {ledger.delete_statuses[resource_id]}"
        if resource_id in by_id:
            return {"id": resource_id, "problem": f"{answered} but still listed"}
        async with slots, session.get(base_url + spec.read.replace("{id}", resource_id)) as response:
            if response.status != 404:
                return {"id": resource_id, "problem": f"{answered} but GET answers {response.status}"}
        return None

    report.checked_gone = len(gone)
    still = [problem for problem in await asyncio.gather(*(still_there(rid) for rid in gone)) if problem]
    report.gone = len(gone) - len(still)
    report.extra.extend(still)
    listed_unique = {(name, str(item[name]).lower()) for name in spec.unique for item in listed
                     if item.get(name) is not None}
    for conflict in ledger.conflicts:
        report.checked_conflicts += 1
        if not any((name, value.lower()) in ledger.stored_unique | listed_unique
                   for name, value in conflict.items()):
            report.extra.append({**conflict, "problem": "answered 409, but no such value was stored"})
    for name in spec.unique:
        values = Counter(str(item.get(name)).lower() for item in listed if item.get(name) is not None)
        report.extra.extend({name: value, "problem": f"stored {count} times"}
                            for value, count in values.items() if count > 1)


def check_integrity(base_url: str, spec: IntegritySpec, ledger: Ledger, **kwargs: Any) -> IntegrityReport:
    return asyncio.run(check_integrity_async(base_url, spec, ledger, **kwargs))
