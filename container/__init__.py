"""The ECS variant's container: the Chalice app behind gunicorn, and the commands the image runs.

``SERVER_COMMAND`` is what the image's CMD runs and what ``make run VARIANT=ecs`` runs
(tests/unit/container keeps the Dockerfile equal to it); ``MIGRATE_COMMAND`` is the
one-shot schema migration the ECS stack runs before the service starts.
"""

SERVER_COMMAND = ("gunicorn", "--config", "python:container.gunicorn_conf", "container.wsgi:application")
MIGRATE_COMMAND = ("python", "-m", "chalicelib.users.migrate")
