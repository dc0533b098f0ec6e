# syntax=docker/dockerfile:1
# The Crosslane orchestrator worker (and the `crosslane` CLI). No Node: the npm side
# (anvil, contract artifacts) belongs to the devnet, which does not run in production and
# is not in the product wheel (it is its own distribution, crosslane-devnet).
#
#   docker build -t crosslane .
#   docker run --rm crosslane crosslane --help

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
# Every dependency ships manylinux wheels (coincurve, psycopg[binary], pydantic-core), so no
# compiler is needed. Sources are copied by name: nothing else in the build context (keys,
# .env, the ledger under .crosslane/) can reach the image.
COPY pyproject.toml ./
COPY crosslane ./crosslane
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY connectors ./connectors
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/python -c "import crosslane.cli.main, workers.orchestrator"

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CROSSLANE_HOME=/var/lib/crosslane
RUN groupadd --system --gid 10001 crosslane \
 && useradd --system --uid 10001 --gid crosslane --home-dir /var/lib/crosslane --shell /usr/sbin/nologin crosslane \
 && install -d -o crosslane -g crosslane -m 0755 /var/lib/crosslane
COPY --from=build /opt/venv /opt/venv
USER crosslane
WORKDIR /var/lib/crosslane
# Signer keys are never baked in: mount keystore files and pass their password as a secret
# (CROSSLANE_KEYSTORE_DIR + CROSSLANE_KEYSTORE_PASSWORD_FILE); see docker-compose.yml.
CMD ["crosslane", "worker"]
