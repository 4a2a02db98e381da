"""The SLO engine: OpenSLO definitions, SLIs computed from CloudWatch counts into DynamoDB,
error budgets, multi-window multi-burn-rate alerts and the budget policy state.

Data flow: request EMF counters -> CloudWatch -> ``Evaluator`` (every minute) -> minute
buckets with hour/day rollups -> window figures -> status snapshot and alerts.
"""
