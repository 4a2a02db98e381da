"""The same write-ledger behaviours against the in-memory fake and the DynamoDB ledger (moto)."""
import pytest

from chalicelib.resilience.write_ledger import (DynamoDBWriteLedger, MemoryWriteLedger,
                                                WriteLedgerUnavailable)

from .resilience_helpers import create_breakers_table

KEEP_SECONDS = 420.0


@pytest.fixture(params=["memory", "dynamodb"])
def ledger_kind(request):
    """``(ledger, unreachable)``: a ledger, and one of the same kind that cannot be reached."""
    if request.param == "memory":
        down = MemoryWriteLedger()
        down.available = False
        return MemoryWriteLedger(), down
    request.getfixturevalue("aws_mock")
    import boto3

    create_breakers_table()
    client = boto3.client("dynamodb", region_name="us-east-1")
    return (DynamoDBWriteLedger("serverless-sre-breakers", keep_seconds=KEEP_SECONDS, boto3_client=client),
            DynamoDBWriteLedger("no-such-table", keep_seconds=KEEP_SECONDS, boto3_client=client))


@pytest.fixture
def ledger(ledger_kind):
    return ledger_kind[0]


def test_nothing_announced_is_none(ledger):
    assert ledger.latest(["user:1"]) is None
    assert ledger.latest([]) is None


def test_an_announcement_is_read_back_under_its_name(ledger):
    ledger.announce(["user:1", "list:"], 1_800_000_000.5)
    assert ledger.latest(["user:1"]) == 1_800_000_000.5
    assert ledger.latest(["list:"]) == 1_800_000_000.5


def test_latest_of_several_names_is_the_newest_of_them(ledger):
    ledger.announce(["user:1"], 1_800_000_010.0)
    ledger.announce(["list:"], 1_800_000_020.0)
    assert ledger.latest(["list:100:", "user:1", "list:"]) == 1_800_000_020.0


def test_a_write_to_one_name_leaves_the_others_unannounced(ledger):
    ledger.announce(["user:1"], 1_800_000_000.0)
    assert ledger.latest(["user:2"]) is None
    assert ledger.latest(["user:2", "list:"]) is None


def test_an_older_announcement_never_moves_a_name_back(ledger):
    ledger.announce(["user:1"], 1_800_000_020.0)
    ledger.announce(["user:1"], 1_800_000_010.0)  # a slower writer, announcing late
    assert ledger.latest(["user:1"]) == 1_800_000_020.0
    ledger.announce(["user:1"], 1_800_000_030.0)
    assert ledger.latest(["user:1"]) == 1_800_000_030.0


def test_an_unreachable_ledger_refuses_announcements_and_reads(ledger_kind):
    _, unreachable = ledger_kind
    with pytest.raises(WriteLedgerUnavailable):
        unreachable.announce(["user:1"], 1_800_000_000.0)
    with pytest.raises(WriteLedgerUnavailable):
        unreachable.latest(["user:1"])
    with pytest.raises(WriteLedgerUnavailable):
        unreachable.latest(["user:1", "list:"])


def test_dynamodb_items_expire_after_the_oldest_servable_value(aws_mock):
    import boto3

    create_breakers_table()
    client = boto3.client("dynamodb", region_name="us-east-1")
    DynamoDBWriteLedger("serverless-sre-breakers", keep_seconds=KEEP_SECONDS,
                        boto3_client=client).announce(["user:1"], 1_800_000_000.0)
    item = client.get_item(TableName="serverless-sre-breakers", Key={"name": {"S": "write-ledger#user:1"}})["Item"]
    assert int(item["expires_at"]["N"]) == 1_800_000_000 + int(KEEP_SECONDS)
