"""The SRE dashboard: one JSON document (``GET /sre/dashboard``) built from what the other
capabilities hand out through their ports, and the page that renders it (``GET /sre/dashboard-ui``)."""
