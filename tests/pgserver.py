"""A throw-away PostgreSQL server for the persistence tests (standard library only).

Used two ways: ``.ci/run`` starts one before the test suite
(``python3 tests/pgserver.py start DIR PORT`` prints the URL to use), and the test
session starts its own when no URL is given and PostgreSQL's binaries are installed.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

USER = "vrrules"
PASSWORD = "vrrules"
DATABASE = "vrrules_test"


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def start(folder: Path, port: int) -> str:
    initdb, pg_ctl, psql = find_bin("initdb"), find_bin("pg_ctl"), find_bin("psql")
    if not (initdb and pg_ctl and psql):
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl, psql) not found")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(
        _as_server_user([initdb, "-A", "trust", "-U", "postgres", "-D", str(data)]),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    subprocess.run(
        _as_server_user(
            [
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ]
        ),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    sql = f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}';CREATE DATABASE {DATABASE} OWNER {USER};"
    for statement in sql.split(";"):
        if statement:
            subprocess.run(
                [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-q", "-c", statement],
                stdout=subprocess.DEVNULL,
                check=True,
            )
    return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"


def stop(folder: Path) -> None:
    pg_ctl = find_bin("pg_ctl")
    if pg_ctl and (folder / "data").exists():
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(folder / "data"), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            check=False,
        )


if __name__ == "__main__":
    command, folder_arg = sys.argv[1], Path(sys.argv[2])
    if command == "start":
        print(start(folder_arg, int(sys.argv[3])))
    elif command == "stop":
        stop(folder_arg)
    else:
        sys.exit(f"usage: {sys.argv[0]} start DIR PORT | stop DIR")
