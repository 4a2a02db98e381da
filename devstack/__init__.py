"""The local stack: an embedded AWS (moto server) provisioned from infra/*.json, the app, the schedules."""
