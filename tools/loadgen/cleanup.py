"""After a run (``--cleanup``): delete what it created and left, so repeated runs do not pile test
data up in the service they load: a deployed stage's table, or the local stack's, where every
listing reads more as the table grows.

What is deleted comes from the ledger the integrity check reads: every resource an acknowledged
create made and no acknowledged delete removed, setup's included. A create left unacknowledged
(a 5xx, a timeout) names no resource; what it may have stored stays, and the report counts those.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional
from urllib.parse import quote

from tools.loadgen import until_ctrl_c
from tools.loadgen.integrity import MIN_AFTER_RUN_TIMEOUT_SECONDS, Ledger
from tools.loadgen.scenario import CleanupSpec

DELETE_CONCURRENCY = 8


@dataclass
class CleanupReport:
    left: int = 0  # what the run created and did not delete
    deleted: int = 0
    already_gone: int = 0  # 404: deleted by someone else, or a delete whose answer was lost
    failures: list[dict[str, Any]] = field(default_factory=list)
    unacknowledged_creates: int = 0
    error: Optional[str] = None

    @classmethod
    def of(cls, ledger: Ledger) -> "CleanupReport":
        """Before any delete: what ``ledger``'s run left, and the creates that named nothing to delete."""
        return cls(left=len(left_by(ledger)), unacknowledged_creates=ledger.unacknowledged_creates)

    def summary(self) -> dict[str, Any]:
        return {"left": self.left, "deleted": self.deleted, "already_gone": self.already_gone,
                "failed": len(self.failures), "failures": self.failures[:20],
                "unacknowledged_creates": self.unacknowledged_creates, "error": self.error}


def left_by(ledger: Ledger) -> list[str]:
    return sorted(set(ledger.expected) - ledger.deleted)


async def clean_up_async(base_url: str, spec: CleanupSpec, ledger: Ledger, report: CleanupReport,
                         headers: Optional[Mapping[str, str]] = None,
                         timeout: float = MIN_AFTER_RUN_TIMEOUT_SECONDS) -> CleanupReport:
    """Delete ``left_by(ledger)``, counting in ``report`` as it goes (what a Ctrl-C leaves is counted)."""
    import aiohttp

    base_url = base_url.rstrip("/")
    targets = left_by(ledger)
    report.left = len(targets)
    slots = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def delete(session: Any, resource_id: str) -> None:
        path = spec.delete.replace("{id}", quote(resource_id, safe=""))
        try:
            async with slots, session.delete(base_url + path) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            report.failures.append({"id": resource_id, "error": f"{type(exc).__name__}: {exc}"[:200]})
            return
        if 200 <= status < 300:
            report.deleted += 1
        elif status == 404:
            report.already_gone += 1
        else:
            report.failures.append({"id": resource_id, "status": status})

    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        await asyncio.gather(*(delete(session, resource_id) for resource_id in targets))
    return report


async def clean_up_until_ctrl_c(base_url: str, spec: CleanupSpec, ledger: Ledger, report: CleanupReport, *,
                                interruptible: bool, headers: Optional[Mapping[str, str]] = None,
                                timeout: float = MIN_AFTER_RUN_TIMEOUT_SECONDS) -> bool:
    """``clean_up_async``, which Ctrl-C stops when ``interruptible`` (``report.error`` then says so);
    returns whether it finished."""
    if await until_ctrl_c(clean_up_async(base_url, spec, ledger, report, headers=headers, timeout=timeout),
                          interruptible) is None:
        report.error = "stopped with Ctrl-C before every resource was deleted"
        return False
    return True
