"""A throwaway PostgreSQL cluster for tests (devstack/postgres.py; the local ECS variant uses it too)."""
from devstack.postgres import PostgresCluster, postgres_bindir, run_cluster

__all__ = ["PostgresCluster", "postgres_bindir", "run_cluster"]
