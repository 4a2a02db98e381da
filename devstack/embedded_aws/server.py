"""The embedded AWS's process: moto prepared with every change of this package, served by gunicorn."""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, Optional

from devstack.embedded_aws import cloudwatch, core, dynamodb, lambdas, ttl
from devstack.embedded_aws.journal import Journal, StateJournal, replay_journal
from devstack.embedded_aws.query_answers import QueryAnswers

SERVER_THREADS = 32


def exit_with_parent(parent_pid: int) -> None:
    """A stack killed without a chance to stop us must not leave this server holding its port."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def prepare_moto(dispatch_url: str, ttl_sweep_seconds: float, journal_path: Optional[str] = None) -> Any:
    """moto with the changes of this package, and the WSGI application serving every service."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    core.stop_keeping_every_model_object()
    core.keep_workflow_failures_off_the_console()
    application: Any = core.CachingDispatcher.create(DomainDispatcherApplication, create_backend_app)
    journal = None
    if journal_path:
        started = time.monotonic()
        replayed = replay_journal(application, journal_path)  # before the DynamoDB hooks: nothing re-journaled
        if replayed:
            print(f"embedded AWS: {replayed} writes replayed from {journal_path} in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        journal = Journal(journal_path)
        application = StateJournal(application, journal)
    dynamodb.serialize_dynamodb(journal)
    dynamodb.roll_back_transactions_by_item()
    dynamodb.compare_strings_directly()
    dynamodb.size_items_directly()
    dynamodb.answer_items_as_json()
    dynamodb.convert_stored_values_directly()
    dynamodb.answer_reads_without_copying_items()
    dynamodb.sort_by_key_values()
    dynamodb.query_only_what_can_match()
    core.cache_handler_method_names()
    core.skip_request_id_rewrite_without_xml()
    cloudwatch.find_metric_data_by_name_and_time()
    cloudwatch.list_each_metric_once()
    lambdas.forward_lambda_invocations(dispatch_url.rstrip("/"))
    ttl.sweep_ttl(ttl_sweep_seconds, journal)
    return QueryAnswers(application)


def stop_with_its_worker(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook, in the server process: moto's state lives in the one worker, and
    one gunicorn starts in its place is an empty AWS (the journal brings back items, not queues,
    functions or workflows: 'The specified queue does not exist' every second after a worker was
    killed). So the server stops too; the stack starts it again from its journal and provisions
    what is missing (``devstack.stack.LocalStack.check_embedded_aws``)."""
    from gunicorn.errors import HaltServer

    if not server.LISTENERS:  # the server is stopping: its worker was told to exit
        return
    raise HaltServer(f"its worker (pid {worker.pid}) exited, and with it the state of the embedded AWS", 1)


def serve(host: str, port: int, dispatch_url: str, ttl_sweep_seconds: float, threads: int,
          journal_path: Optional[str] = None) -> None:
    """moto's own server is Werkzeug's development server, which closes the connection after every
    answer (a TCP handshake and a TIME-WAIT socket per AWS call); gunicorn's threaded worker keeps
    connections alive. One worker process: moto's state lives in it."""
    from gunicorn.app.base import BaseApplication

    class EmbeddedAws(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
                        # above botocore's and requests' idle times: the client closes an idle connection first
                        "keepalive": 120,
                        # a restarted worker would be an empty AWS: never restart it for a slow request
                        "timeout": 0, "graceful_timeout": 5, "accesslog": None, "loglevel": "warning",
                        "proc_name": "serverless-sre-embedded-aws", "child_exit": stop_with_its_worker}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in the worker process
            from chalicelib.heap import HeapFreezer

            application = prepare_moto(dispatch_url, ttl_sweep_seconds, journal_path)
            HeapFreezer().start()  # the worker's life: a daemon thread, ended with it
            return application

    EmbeddedAws().run()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.embedded_aws", description="The embedded AWS: a moto server in a process of its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dispatch-url", required=True, help="the local stack's control API")
    parser.add_argument("--journal", help="keep the state in this file across restarts (replayed at start)")
    parser.add_argument("--ttl-sweep-seconds", type=float, default=ttl.TTL_SWEEP_SECONDS,
                        help=f"how often items past their TTL are deleted (default {ttl.TTL_SWEEP_SECONDS:g})")
    parser.add_argument("--threads", type=int, default=SERVER_THREADS,
                        help=f"requests served at once (default {SERVER_THREADS}; SQS long polls hold one each)")
    args = parser.parse_args(argv)

    # moto's Step Functions call back into this server through MOTO_PORT.
    os.environ["MOTO_PORT"] = str(args.port)
    exit_with_parent(os.getppid())
    serve(args.host, args.port, args.dispatch_url, args.ttl_sweep_seconds, args.threads, args.journal)
    return 0
