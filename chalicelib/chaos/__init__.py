"""Chaos experiments: faults the running service picks up, the experiment workflow, its journal.

- ``model``: typed records (``FaultRecord``, ``Experiment``/journal), fault kinds and targets.
- ``store``: the fault store port, its in-memory fake and DynamoDB provider (one contract suite).
- ``active``: the per-process cache of active faults and what the request path asks of it
  (route faults in the middleware, DynamoDB faults through the botocore hook, webhook faults).
"""
