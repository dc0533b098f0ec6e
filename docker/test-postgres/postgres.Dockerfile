# PostgreSQL 15 from Debian on the locally built base image, for the test suite when no image
# registry is reachable (elsewhere the tests use the official `postgres` image). It answers to
# the same subset of the official image's interface the tests use: POSTGRES_HOST_AUTH_METHOD,
# POSTGRES_USER, PGPORT, PGDATA, and arguments passed on to `postgres`.
# Build: scripts/test-images (docker build --network host, so apt reaches Debian's mirror).
ARG BASE=crosslane/debian-base:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && pg_dropcluster 15 main \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    PGPORT=5432
COPY entrypoint.sh /usr/local/bin/postgres-entrypoint
RUN chmod 0755 /usr/local/bin/postgres-entrypoint \
 && mkdir -p "$PGDATA" /var/run/postgresql && chown postgres:postgres "$PGDATA" /var/run/postgresql
USER postgres
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint"]
CMD ["postgres"]
