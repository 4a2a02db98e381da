"""Incidents: deduplicated incidents in DynamoDB, escalation by Step Functions, SNS pages.

- ``model``: the incident, its statuses and timeline (no AWS).
- ``policy``: severities' response times and the escalation matrix (configuration).
- ``store``: the pynamodb repository.
- ``service``: ``IncidentService`` (trigger/ack/mitigate/resolve) and ``IncidentTrigger``.
- ``escalation``: the Step Functions task logic (validate, page, await ack, record failure).
- ``pages``/``ack_links``/``experiments``: page bodies, signed ack links, the chaos lookup.
- ``adapters``: the SLO alert sink and the breaker transition listener.
- ``reports``: postmortem drafts, communication templates, MTTA/MTTR/MTBF.
"""
