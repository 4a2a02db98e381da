# The ECS/RDS variant: the Chalice app behind gunicorn (container/), users in PostgreSQL.
#   docker build -t serverless-sre .
# The service runs the CMD; the ECS stack runs `python -m chalicelib.users.migrate` from the same
# image as a one-off task before the service starts. Credentials come from Secrets Manager at run time.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.txt requirements-container.txt constraints.txt ./
# Binary wheels only: the build needs no compiler, and the image gets none.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: -r requirements-container.txt -c constraints.txt \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080 \
    USERS_STORE=postgres \
    POWERTOOLS_SERVICE_NAME=user-api \
    POWERTOOLS_METRICS_NAMESPACE=ServerlessSRE \
    POWERTOOLS_TRACE_DISABLED=true
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY app.py ./
COPY chalicelib/ chalicelib/
COPY container/ container/
COPY slos/ slos/
COPY runbooks/ runbooks/
COPY experiments/ experiments/
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["python", "-m", "container.healthcheck"]
CMD ["gunicorn", "--config", "python:container.gunicorn_conf", "container.wsgi:application"]
