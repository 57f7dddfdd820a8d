# The connector's daemon (`connector run`) on python:3.11-slim, as uid 10001, state in the /data volume.
# A build stage compiles the reconciliation and scoring cores (CONNECTOR_COMPILE=1, see setup.py) into a wheel:
# same results, about a quarter fewer instructions. The wheel carries the default mapping files as package
# data, so nothing else is copied; mount your own mappings at /etc/connector/mappings to replace them.
#   docker build -t hubspot-salesforce-connector .
#   docker run -d --name connector --stop-timeout 40 -p 127.0.0.1:8080:8080 -v connector-data:/data \
#     -v $PWD/connector.toml:/etc/connector/connector.toml:ro -v $PWD/secrets:/run/secrets:ro \
#     -e CONNECTOR_HUBSPOT_ACCESS_TOKEN_FILE=/run/secrets/hubspot_token \
#     -e CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE=/run/secrets/salesforce_secret \
#     -e CONNECTOR_DAEMON_TOKEN_FILE=/run/secrets/daemon_token hubspot-salesforce-connector
# Needs BuildKit (the default builder since Docker 23) for RUN --mount. docs/deploy.md has the rest (compose
# with PostgreSQL, upgrades, secrets, permissions, backups).
FROM python:3.11-slim AS build
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY connector ./connector
RUN CONNECTOR_COMPILE=1 pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONNECTOR_CONFIG=/etc/connector/connector.toml

# the wheel is mounted from the build stage for this step only: no layer keeps it
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
    && groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid 10001 --no-create-home connector \
    && mkdir -p /data /etc/connector && chown 10001:10001 /data
COPY deploy/connector.toml /etc/connector/connector.toml

WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
# /healthz, /readyz, /metrics and the status page: [daemon] listen in deploy/connector.toml
EXPOSE 8080
# slim has no curl: Python's urllib, which fails (exit 1) on a refused connection or any status >= 400
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["connector"]
CMD ["run"]
