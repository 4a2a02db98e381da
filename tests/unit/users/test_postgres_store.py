"""The PostgreSQL user store as the container runs it: migrations, RDS-managed credentials, the pool, the app."""
import json

import boto3
import psycopg
import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.users import migrate
from chalicelib.users.postgres_connection import connect, create_pool
from devstack.ports import free_port
from tests.postgres_server import PostgresCluster

SECRET_ID = "serverless-sre/database"


@pytest.fixture(scope="module")
def cluster():
    """Served on 127.0.0.1 with a password, as RDS is."""
    server = PostgresCluster(tcp_port=free_port(), password="first-password")
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def empty_database(cluster):
    with psycopg.connect(cluster.socket_dsn, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS users, event_outbox, schema_migrations")
    return cluster


@pytest.fixture
def database_secret(aws_mock, cluster, monkeypatch):
    """The RDS-managed secret's shape, and the settings the ECS task definition sets."""
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.create_secret(Name=SECRET_ID, SecretString=json.dumps({"username": "sre", "password": cluster.password}))
    monkeypatch.setenv("DB_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", str(cluster.tcp_port))
    monkeypatch.setenv("DB_SSLMODE", "disable")
    wiring.reset()
    return secrets


def test_migrations_apply_each_file_once_and_record_its_version(empty_database):
    with psycopg.connect(empty_database.socket_dsn) as connection:
        assert migrate.migrate(connection) == ["0001", "0002", "0003"]
        assert migrate.migrate(connection) == []
        versions = connection.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert versions == [("0001", "0001_users"), ("0002", "0002_write_deadline"), ("0003", "0003_event_outbox")]
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_a_misnamed_migration_file_is_an_error_not_skipped(tmp_path):
    (tmp_path / "0001_users.sql").write_text("SELECT 1")
    (tmp_path / "add-index.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="add-index.sql"):
        migrate.migration_files(tmp_path)


def test_the_migrate_command_connects_with_the_secret_and_migrates(empty_database, database_secret, capsys):
    assert migrate.main([]) == 0
    assert "applied 0001" in capsys.readouterr().out


def test_the_migrate_command_says_what_is_missing_without_a_traceback(capsys):
    def unconfigured():
        raise RuntimeError("DB_SECRET_ID is not set: the PostgreSQL user store reads its credentials from it")

    assert migrate.main([], connect=unconfigured) == 1
    assert capsys.readouterr().err == ("python -m chalicelib.users.migrate: error: DB_SECRET_ID is not set: the "
                                       "PostgreSQL user store reads its credentials from it\n")


def test_credentials_are_the_rds_managed_secret_and_the_task_settings(database_secret, cluster):
    arguments = wiring.current().database_credentials()
    assert (arguments["host"], arguments["port"], arguments["user"], arguments["password"]) == (
        "127.0.0.1", cluster.tcp_port, "sre", cluster.password)


def test_a_secret_without_a_password_is_refused_with_its_name(database_secret):
    database_secret.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({"username": "sre"}))
    with pytest.raises(RuntimeError, match=SECRET_ID):
        wiring.current().database_credentials()


def test_a_rotated_password_is_read_again_when_the_server_refuses_the_cached_one(database_secret, cluster):
    credentials = wiring.current().database_credentials
    connect(credentials).close()  # caches the current password
    try:
        with psycopg.connect(cluster.socket_dsn, autocommit=True) as admin:
            admin.execute("ALTER USER sre PASSWORD 'rotated-password'")
        database_secret.put_secret_value(SecretId=SECRET_ID,
                                         SecretString=json.dumps({"username": "sre", "password": "rotated-password"}))
        with connect(credentials) as connection:
            assert connection.execute("SELECT current_user").fetchone() == ("sre",)
    finally:
        with psycopg.connect(cluster.socket_dsn, autocommit=True) as admin:
            admin.execute(f"ALTER USER sre PASSWORD '{cluster.password}'")


def test_the_pool_hands_out_working_connections_up_to_its_size(database_secret, monkeypatch):
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "3")
    wiring.reset()
    wired = wiring.current()
    pool = create_pool(wired.settings.database, wired.database_credentials)
    try:
        with pool.connection() as first, pool.connection() as second:
            assert first.execute("SELECT 1").fetchone() == (1,) and second is not first
        assert pool.get_stats()["pool_max"] == 3
    finally:
        pool.close()


@pytest.fixture
def postgres_client(empty_database, database_secret, monkeypatch):
    from devstack.provision import provision_tables

    monkeypatch.setenv("USERS_STORE", "postgres")
    monkeypatch.setenv("BREAKER_STORAGE", "memory")
    wiring.reset()
    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))  # webhook outbox
    assert migrate.main([]) == 0
    from app import app

    with Client(app) as client:
        yield client
    wiring.current().close()


def test_the_app_keeps_its_users_in_postgres_when_configured(postgres_client, empty_database):
    created = postgres_client.http.post("/api/users", headers={"Content-Type": "application/json"},
                                        body=json.dumps({"name": "Ada", "email": "ada@example.com"}))
    assert created.status_code == 201, created.body
    user = created.json_body
    assert postgres_client.http.get(f"/api/users/{user['id']}").json_body == user
    with psycopg.connect(empty_database.socket_dsn) as connection:
        assert connection.execute("SELECT email FROM users").fetchall() == [("ada@example.com",)]


def test_an_unknown_users_store_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("USERS_STORE", "sqlite")
    wiring.reset()
    with pytest.raises(ValueError, match="USERS_STORE='sqlite'"):
        wiring.current().user_repository


def test_a_pooled_connection_is_checked_only_after_sitting_idle(cluster):
    from chalicelib.users import postgres_connection

    connection = psycopg.connect(cluster.socket_dsn)
    connection.close()  # a check on it would fail
    postgres_connection._stamp_idle(connection)
    postgres_connection._check_if_idle(connection)  # just used: handed out unchecked
    connection._idle_since -= postgres_connection.CHECK_IF_IDLE_SECONDS + 1
    with pytest.raises(psycopg.OperationalError):
        postgres_connection._check_if_idle(connection)


def restarted_pool_outcomes(cluster, settings, credentials, rechecked: bool) -> list[str]:
    """Four pooled connections used just now, the server restarted, then four statements one by one
    (each after the pool's check, if one runs, is done)."""
    from chalicelib.users.postgres import PostgresUserRepository
    from chalicelib.users.postgres_connection import PoolRecheck
    from chalicelib.users.repository import StorageUnavailable

    pool = create_pool(settings, credentials)
    try:
        recheck = PoolRecheck(pool)
        held = [pool.getconn() for _ in range(4)]
        for connection in held:
            pool.putconn(connection)
        repository = PostgresUserRepository(pool.connection, answer_timeout=5,
                                            on_connection_lost=recheck if rechecked else None)
        cluster.stop()
        cluster.start()
        outcomes = []
        for _ in range(4):
            try:
                repository.ping()
                outcomes.append("ok")
            except StorageUnavailable:
                outcomes.append("failed")
            assert recheck.idle.wait(10)
        return outcomes
    finally:
        pool.close()


def test_after_a_server_restart_one_statement_fails_and_the_pools_other_connections_are_replaced(
        database_secret, empty_database, monkeypatch):
    from chalicelib.users import postgres_connection

    monkeypatch.setattr(postgres_connection, "CHECK_IF_IDLE_SECONDS", 60)  # each connection counts as just used
    monkeypatch.setenv("DB_POOL_MIN_SIZE", "4")
    migrate.main([])
    wired = wiring.current()
    unrechecked = restarted_pool_outcomes(empty_database, wired.settings.database, wired.database_credentials, False)
    assert unrechecked == ["failed"] * 4  # what a busy pool did: enough failures to open the breaker
    rechecked = restarted_pool_outcomes(empty_database, wired.settings.database, wired.database_credentials, True)
    assert rechecked == ["failed", "ok", "ok", "ok"]


def test_a_lost_connection_met_while_the_pool_is_checked_starts_no_second_check():
    import threading

    from chalicelib.users.postgres_connection import PoolRecheck

    release, checks = threading.Event(), []

    class SlowPool:
        def check(self):
            checks.append(1)
            release.wait(5)

    class Opened:
        def close(self):
            pass

    recheck = PoolRecheck(SlowPool(), connect=Opened)
    recheck()
    recheck()
    release.set()
    assert recheck.idle.wait(5)
    assert checks == [1]


def test_a_lost_connection_while_the_server_is_still_down_checks_nothing():
    from chalicelib.users.postgres_connection import PoolRecheck

    checks = []

    class Pool:
        def check(self):
            checks.append(1)

    def refused():
        raise psycopg.OperationalError("connection refused")

    recheck = PoolRecheck(Pool(), connect=refused)
    recheck()
    assert recheck.idle.wait(5)
    assert checks == []  # checked now, every connection would go, and come back only after the pool's backoff


def test_pooled_connections_commit_each_statement_on_its_own(database_secret, empty_database):
    migrate.main([])
    wired = wiring.current()
    pool = create_pool(wired.settings.database, wired.database_credentials)
    try:
        with pool.connection() as connection:
            assert connection.autocommit is True
    finally:
        pool.close()


@pytest.fixture
def paused(cluster):
    """Every PostgreSQL process stopped (SIGSTOP), as the ECS variant's slow-database fault does; resumed after."""
    def pause():
        cluster.pause()
    yield pause
    cluster.resume()


# Well above the bounds under test, far below what a paused server gives an unbounded client (no end):
# a loaded machine adds seconds (2.7 s measured for the 1.2 s bound during a full run).
NOT_A_HANG_SECONDS = 10

def test_a_statement_the_stopped_server_never_answers_fails_within_the_client_bound(
        database_secret, empty_database, paused, monkeypatch):
    import time

    from chalicelib.users import postgres_connection
    from chalicelib.users.repository import StorageUnavailable

    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("USERS_STORE", "postgres")
    monkeypatch.setattr(postgres_connection, "CHECK_IF_IDLE_SECONDS", 60)  # the statement, not the pool's check
    migrate.main([])
    wiring.reset()
    repository = wiring.current().user_repository
    try:
        repository.ping()  # a pooled connection, open before the server stops
        paused()
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="no answer within 1.2 s"):
            repository.get("0" * 26)
        assert 1.2 <= time.monotonic() - started < NOT_A_HANG_SECONDS
    finally:
        empty_database.resume()  # the pool's close then waits for no connection attempt
        repository.close()


def test_the_pools_check_of_an_idle_connection_is_bounded_too(cluster, paused):
    import time

    from chalicelib.users import postgres_connection

    connection = psycopg.connect(cluster.socket_dsn)
    try:
        connection._idle_since = time.monotonic() - postgres_connection.CHECK_IF_IDLE_SECONDS - 1
        paused()
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            postgres_connection._check_if_idle(connection, answer_within=0.3)
        assert time.monotonic() - started < NOT_A_HANG_SECONDS
    finally:
        connection.close()


def test_with_the_server_stopped_requests_are_503_with_retry_after_and_the_breaker_opens(
        postgres_client, paused, monkeypatch):
    import time

    # At most the pool's wait for a connection (1 s) and one statement's bound (0.2 + 1 s).
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("DB_POOL_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("CIRCUIT_BREAKERS", json.dumps({"database": {"fail_max": 1}}))
    wiring.reset()
    assert postgres_client.http.get("/api/users").status_code == 200  # the pool holds a live connection
    paused()
    answers = []
    for index in range(2):
        started = time.monotonic()
        response = postgres_client.http.post("/api/users", headers={"Content-Type": "application/json"},
                                             body=json.dumps({"name": "Ada", "email": f"ada{index}@example.com"}))
        answers.append((response.status_code, "Retry-After" in response.headers, time.monotonic() - started))
    assert [(status, retry_after) for status, retry_after, _ in answers] == [(503, True)] * 2
    # The first waited no longer than the bound; the breaker it opened answered the second at once.
    assert 1 <= answers[0][2] < 3 and answers[1][2] < 0.5, answers


@pytest.fixture
def faulted_store(empty_database):
    """A store on the real server whose statements meet the faults of a switch; waits are recorded, not slept."""
    from chalicelib.resilience.faults import FaultInjector, FaultSwitch
    from chalicelib.users.postgres import PostgresUserRepository

    with psycopg.connect(empty_database.socket_dsn) as connection:
        migrate.migrate(connection)
    switch, waits = FaultSwitch(), []
    store = PostgresUserRepository(lambda: psycopg.connect(empty_database.socket_dsn, autocommit=True),
                                   answer_timeout=3.0, faults=FaultInjector(switch, sleep=waits.append))
    return store, switch, waits


def _count_users(cluster) -> int:
    with psycopg.connect(cluster.socket_dsn) as connection:
        return connection.execute("SELECT count(*) FROM users").fetchone()[0]


def test_a_users_store_error_fault_fails_the_postgres_statement_it_names_and_writes_nothing(
        faulted_store, empty_database):
    from chalicelib.resilience.faults import Fault
    from chalicelib.users.repository import StorageUnavailable
    from chalicelib.users.validation import UserInput

    store, switch, _ = faulted_store
    switch.activate(Fault(operations=frozenset({"TransactWriteItems"})))
    with pytest.raises(StorageUnavailable, match="injected fault"):
        store.create(UserInput(name="Ada", email="ada@example.com"))
    assert _count_users(empty_database) == 0
    assert store.get("00000000-0000-0000-0000-000000000000") is None  # a read (GetItem) is not named


def test_a_users_store_slowdown_fault_delays_the_postgres_statement_which_then_runs(faulted_store, empty_database):
    from chalicelib.resilience.faults import Fault
    from chalicelib.users.validation import UserInput

    store, switch, waits = faulted_store
    switch.activate(Fault(error_code="", delay_seconds=0.3))
    store.create(UserInput(name="Ada", email="ada@example.com"))
    assert waits == [0.3] and _count_users(empty_database) == 1


def test_a_users_store_timeout_fault_hangs_no_longer_than_the_answer_bound(faulted_store):
    from chalicelib.resilience.faults import Fault
    from chalicelib.users.repository import StorageUnavailable

    store, switch, waits = faulted_store
    switch.activate(Fault(hang_seconds=30))
    with pytest.raises(StorageUnavailable, match="no answer within 3 s"):
        store.list_page(10, None)
    assert waits == [3.0]


def test_a_chaos_experiments_users_store_fault_reaches_the_ecs_variants_app(postgres_client, empty_database):
    import time

    from chalicelib.chaos.model import FaultRecord

    wiring.current().chaos_fault_store.put(FaultRecord(
        fault_id="exp-0123456789ab#0", experiment_id="exp-0123456789ab", kind="dynamodb_error", target="database",
        magnitude=0, blast_radius_pct=100, expires_at=time.time() + 60))
    wiring.current().chaos_faults.invalidate()
    response = postgres_client.http.post("/api/users", headers={"Content-Type": "application/json"},
                                         body=json.dumps({"name": "Ada", "email": "ada@example.com"}))
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert _count_users(empty_database) == 0


def test_the_pools_own_warnings_are_one_json_line_of_the_service_log(database_secret, monkeypatch, capsys):
    import logging

    monkeypatch.setenv("USERS_STORE", "postgres")
    wiring.reset()
    repository = wiring.current().user_repository
    try:
        capsys.readouterr()
        logging.getLogger("psycopg.pool").warning("error connecting in 'users': connection failed: refused\n"
                                                  "\tIs the server running on that host?")
        output = capsys.readouterr()
    finally:
        repository.close()
    assert output.err == ""
    lines = output.out.splitlines()
    assert len(lines) == 1, lines
    record = json.loads(lines[0])
    assert record["level"] == "WARNING" and record["service"] == "user-api"
    assert record["message"].startswith("error connecting in 'users'")


def test_a_write_its_client_gave_up_on_is_not_applied_when_the_stopped_server_runs_again(
        database_secret, empty_database, paused, monkeypatch):
    import time

    from chalicelib.users import postgres_connection
    from chalicelib.users.repository import StorageUnavailable
    from chalicelib.users.validation import UserInput

    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setenv("USERS_STORE", "postgres")
    monkeypatch.setattr(postgres_connection, "CHECK_IF_IDLE_SECONDS", 60)  # sent at once, as under load
    migrate.main([])
    wiring.reset()
    repository = wiring.current().user_repository
    try:
        user = repository.create(UserInput(name="Ada", email="ada@example.com"))
        paused()
        with pytest.raises(StorageUnavailable):  # answered 503: the client retries later, or not
            repository.update(user.id, UserInput(name="Late", email="ada@example.com"))
        with pytest.raises(StorageUnavailable):
            repository.create(UserInput(name="Bob", email="bob@example.com"))
        empty_database.resume()
        time.sleep(1)  # the backends run what waited in their sockets
        with psycopg.connect(empty_database.socket_dsn) as connection:
            assert connection.execute("SELECT name FROM users ORDER BY name").fetchall() == [("Ada",)]
    finally:
        empty_database.resume()
        repository.close()


@pytest.fixture
def webhook_http():
    from tests.support.webhooks import FakeHttp

    return FakeHttp()


@pytest.fixture
def webhook_postgres_client(request, monkeypatch, webhook_http):
    """The ECS variant's app with webhooks on, sent to a fake endpoint."""
    from chalicelib.webhooks.sender import WebhookSender

    from tests.support.webhooks import SIGNING_KEY

    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/users")
    client = request.getfixturevalue("postgres_client")
    wiring.current().webhook_sender = WebhookSender("https://hooks.example.com/users", key_reader=lambda: SIGNING_KEY,
                                                    http=webhook_http)
    return client


def _stored_event_ids(cluster) -> list[str]:
    with psycopg.connect(cluster.socket_dsn) as connection:
        return [row[0] for row in connection.execute("SELECT event_id::text FROM event_outbox").fetchall()]


def _create_ada(client):
    created = client.http.post("/api/users", headers={"Content-Type": "application/json"},
                               body=json.dumps({"name": "Ada", "email": "ada@example.com"}))
    assert created.status_code == 201, created.body
    return created.json_body


def test_a_delivered_event_is_deleted_from_the_store_and_never_queued(webhook_postgres_client, webhook_http,
                                                                      empty_database):
    from chalicelib.webhooks.events import user_created_event

    event = user_created_event(_create_ada(webhook_postgres_client))
    assert [request["body"] for request in webhook_http.requests] == [event.body.encode()]
    assert wiring.current().outbox.get(event.event_id) is None
    assert _stored_event_ids(empty_database) == []


def test_an_event_not_delivered_is_queued_then_deleted_from_the_store(webhook_postgres_client, webhook_http,
                                                                      empty_database):
    from chalicelib.webhooks.events import user_created_event

    webhook_http.down()
    entry = wiring.current().outbox.get(user_created_event(_create_ada(webhook_postgres_client)).event_id)
    assert (entry.status, entry.attempts) == ("pending", 1)
    assert _stored_event_ids(empty_database) == []


def test_the_event_of_a_user_whose_request_died_after_the_write_is_relayed_to_the_outbox(
        webhook_postgres_client, empty_database):
    from chalicelib.users.validation import UserInput
    from chalicelib.webhooks.events import new_user_event

    wired = wiring.current()
    user = wired.user_repository.create(UserInput(name="Ada", email="ada@example.com"))  # and nothing after
    event_id = new_user_event(user).event_id
    assert _stored_event_ids(empty_database) == [event_id]
    wired.stored_event_relay.settled_seconds = 0
    assert wired.stored_event_relay.relay_once() == 1
    assert (wired.outbox.get(event_id).status, _stored_event_ids(empty_database)) == ("pending", [])


def test_a_container_worker_runs_the_relay_only_for_postgres_with_webhooks(webhook_postgres_client, monkeypatch):
    wired = wiring.current()
    wired.start_background_work()
    assert wired.relay_loop is not None
    wired.close()
    monkeypatch.setenv("USERS_STORE", "dynamodb")
    wiring.reset()
    wiring.current().start_background_work()
    assert wiring.current().relay_loop is None


def test_a_write_deadline_starts_once_a_connection_is_in_hand(empty_database):
    """Waiting for a pooled connection (a busy worker) is not the server's delay: a create whose deadline
    started before the wait was refused by the server once the wait was longer than the write window."""
    import time

    from chalicelib.users.postgres import PostgresUserRepository
    from chalicelib.users.postgres_connection import ANSWER_GRACE_SECONDS
    from chalicelib.users.validation import UserInput

    with psycopg.connect(empty_database.socket_dsn) as connection:
        migrate.migrate(connection)

    def slow_checkout():
        time.sleep(0.5)
        return psycopg.connect(empty_database.socket_dsn, autocommit=True)

    store = PostgresUserRepository(slow_checkout, answer_timeout=ANSWER_GRACE_SECONDS + 0.2)
    assert store.create(UserInput(name="Ada", email="ada@example.com")).name == "Ada"
