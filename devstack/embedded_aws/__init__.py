"""The embedded AWS: a moto server in a process of its own (``python -m devstack.embedded_aws``).

In its own process moto no longer shares one interpreter lock with the app, the scheduler
and the metrics forwarder. It is served by gunicorn's threaded worker, which keeps
connections alive (moto's own Werkzeug server closes each one after its answer). What moto
does not do on its own, or does slowly, is added here:

- DynamoDB requests run one at a time. moto's DynamoDB backend is not thread-safe:
  TransactWriteItems deep-copies every table it touches (for its rollback) while other
  request threads change them ("dictionary changed size during iteration"), and a rollback
  would overwrite writes that happened meanwhile.
- A transaction rolls back the items it touched, not whole tables: moto deep-copies every
  table a TransactWriteItems touches before it starts, so each create cost time in
  proportion to the number of users stored (this is safe only with the serialization above).
- Item reads (GetItem, Query, Scan, BatchGetItem) and writes answer with ``json.dumps`` of the
  result: moto's generic serializer walks the botocore shape of every attribute (~0.4 ms per
  item; a page of 100 users cost 45 ms; a write ~0.1 ms), and these results already are
  DynamoDB JSON. Its
  conversion of stored values to that JSON, and the deep copy of every item a Query or Scan
  returns, were the next half of the cost of a page; with requests serialized the answer is
  written before any other request can change the items, so no copy is needed.
- A Query asked again before any change of DynamoDB's state gets the answer it got
  (``QueryAnswers``): moto reads every item of the table for an index Query, and a page of
  100 users cost 3-5 ms of CPU here, ~1 ms of it in Flask's dispatch before moto runs.
- moto keeps every model object it ever creates (for its /moto-api dashboard): each item
  version an update or transaction copies, each metric datum. That grew the process by
  ~8 MiB a minute under light load; only S3's objects are still kept (its reset needs them).
- Items past their table's TTL attribute are deleted, as DynamoDB's TTL does (moto never
  expires them, so TTL'd tables such as the webhook outbox grew without bound under load).
- Lambda functions of ``infra/functions.json`` that a state machine invokes run in the
  local stack's process: the invocation is forwarded to its control API
  (``POST /lambda/<key>/invoke``), which answers what Lambda would.
- ``--journal FILE``: the state survives a restart (or a crash) of this process. Every
  successful write to DynamoDB, Secrets Manager and CloudWatch metrics is appended to the
  file before its answer leaves (``StateJournal``); a new process started with the same file
  replays it, in order, before it serves anything. Everything else (topics, queues and their
  subscriptions, functions, state machines) is provisioned again from infra/*.json by the
  local stack (``LocalStack.restart_embedded_aws``); what is lost is what was in flight
  there: queued messages and running Step Functions executions. moto's own recorder
  (``MOTO_ENABLE_RECORDING``) replays every request, reads and Step Functions starts
  included, over HTTP, which would run workflows and send pages a second time.

Modules: ``dynamodb`` (the first three points), ``query_answers``, ``core`` (moto's server as a whole: model
objects, service lookup, request ids), ``cloudwatch`` (metric reads), ``ttl``, ``lambdas``,
``journal``, and ``server`` (the process: ``python -m devstack.embedded_aws``).
"""
