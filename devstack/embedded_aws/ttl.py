"""Items past their table's TTL attribute are deleted, as DynamoDB's TTL does (moto never expires
them, so TTL'd tables such as the webhook outbox grew without bound under load)."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from devstack.embedded_aws.dynamodb import DYNAMODB_LOCK, STATE_VERSION, binary_tagged, stored_items

if TYPE_CHECKING:
    from devstack.embedded_aws.journal import Journal

log = logging.getLogger("devstack.embedded_aws")

# DynamoDB deletes expired items within days, usually minutes; locally within this many seconds.
TTL_SWEEP_SECONDS = 30.0

# DynamoDB leaves alone a TTL value more than five years in the past (it takes it for not epoch seconds).
TTL_IGNORED_AGE_SECONDS = 5 * 365 * 24 * 3600


def expired_keys(table: Any, now: float) -> list[tuple[Any, Any]]:
    """The (hash, range) keys of ``table``'s items whose TTL attribute (epoch seconds) is past."""
    if table.ttl.get("TimeToLiveStatus") != "ENABLED" or not table.ttl.get("AttributeName"):
        return []
    attribute = table.ttl["AttributeName"]
    expired = []
    for item in stored_items(table):
        value = item.attrs.get(attribute)
        if value is None or value.type != "N":
            continue
        try:
            expires_at = float(value.value)
        except ValueError:
            continue
        if now - TTL_IGNORED_AGE_SECONDS <= expires_at < now:
            expired.append((item.hash_key, item.range_key))
    return expired


def expire_ttl_items(now: Optional[float] = None, journal: Optional["Journal"] = None) -> int:
    """Delete every item past its table's TTL in every account and region; returns how many.
    With a ``journal``, the deletions are journaled as item writes are (a replay does not bring them back)."""
    from moto.dynamodb.models import dynamodb_backends

    now = time.time() if now is None else now
    deleted = 0
    with DYNAMODB_LOCK:
        for account, regions in list(dynamodb_backends.items()):
            for region, backend in list(regions.items()):
                for table in list(backend.tables.values()):
                    images = []
                    for hash_key, range_key in expired_keys(table, now):
                        table.delete_item(hash_key, range_key)  # also the stream's REMOVE record
                        key = {table.hash_key_attr: hash_key.to_json()}
                        if table.range_key_attr:
                            key[table.range_key_attr] = range_key.to_json()
                        images.append({"table": table.name, "key": binary_tagged(key), "item": None})
                    if images:
                        STATE_VERSION.move_on()
                    if images and journal is not None:
                        journal.append({"action": "dynamodb.items", "account": account, "region": region,
                                        "items": images})
                    deleted += len(images)
    return deleted


def sweep_ttl(interval_seconds: float, journal: Optional["Journal"] = None) -> threading.Thread:
    def sweep() -> None:
        while True:
            time.sleep(interval_seconds)
            try:
                expire_ttl_items(journal=journal)
            except Exception:  # one failed sweep must not end the sweeping; the traceback is logged
                log.exception("TTL sweep failed")

    thread = threading.Thread(target=sweep, name="ttl-sweeper", daemon=True)
    thread.start()
    return thread
