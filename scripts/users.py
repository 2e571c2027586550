"""Create and manage dashboard accounts from the server's command line (the first administrator too).

    python -m scripts.users add NAME --role admin|county_editor|viewer [--county 370811] [--display-name 张三]
    python -m scripts.users reset NAME          # new password, ends the account's sessions, clears its lock
    python -m scripts.users disable NAME        # and signs it out;  enable NAME  undoes it
    python -m scripts.users role NAME --role county_editor --county 370812
    python -m scripts.users list

Passwords are never given on the command line: they are asked for twice at a terminal, or read from
the first line of standard input when it is not a terminal (``printf '%s\\n' "$PW" | python -m ...``).
Whoever can run this on the server acts as an administrator; the audit log names them ``cli:<login>``.
The dashboard holds the database open: stop it first (``sudo systemctl stop jiugai``) or use its
administration page. ``--db`` (default: env ``JIUGAI_DB`` or data/jiugai.duckdb) picks another file.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from analytics import settings, store
from analytics.errors import InputError, JiugaiError
from analytics.services import auth

log = logging.getLogger(__name__)


def _read_password(stdin: TextIO, *, confirm: bool = True) -> str:
    """A password from a terminal prompt (asked twice) or from the first line of non-terminal stdin."""
    if stdin.isatty():
        first = getpass.getpass("Password / 密码: ")
        if confirm and getpass.getpass("Repeat / 再次输入: ") != first:
            raise InputError("The two passwords differ; nothing was changed.")
        return first
    line = stdin.readline()
    if not line:
        raise InputError("No password on standard input (expected it on the first line); nothing was changed.")
    return line.rstrip("\r\n")


def _actor() -> auth.User:
    """The operator: the login that ran ``sudo`` (if any), else the current one."""
    login = os.environ.get("SUDO_USER")
    if not login:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = str(os.getuid())
    return auth.User(f"cli:{login}", "admin")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.users", description="Manage dashboard accounts.")
    parser.add_argument("--db", default=None, help="database file (default: env JIUGAI_DB or data/jiugai.duckdb)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account (password asked, never on the command line)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--county", default=None, help="county code of a county editor, e.g. 370811")
    add.add_argument("--display-name", default=None)
    reset = commands.add_parser("reset", help="set a new password, sign the account out, clear its lock")
    reset.add_argument("username")
    for name in ("disable", "enable"):
        commands.add_parser(name, help=f"{name} an account").add_argument("username")
    role = commands.add_parser("role", help="change an account's role (and county)")
    role.add_argument("username")
    role.add_argument("--role", required=True, choices=auth.ROLES)
    role.add_argument("--county", default=None)
    commands.add_parser("list", help="list accounts (never their passwords)")
    return parser


def run(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line ``argv``; return the exit status (0 done, 1 refused, 2 usage error)."""
    args = _parser().parse_args(argv)
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    actor = _actor()
    try:
        con = store.connect(args.db or settings.DB_PATH)
    except JiugaiError as exc:
        log.error("%s", exc)
        return 1
    try:
        if args.command == "add":
            password = _read_password(stdin)
            auth.create_user(con, args.username, password, role=args.role, county_code=args.county,
                             display_name=args.display_name, actor=actor)
            stdout.write(f"created {auth.normalise_username(args.username)} ({args.role})\n")
        elif args.command == "reset":
            password = _read_password(stdin)
            auth.reset_password(con, args.username, password, actor=actor)
            stdout.write(f"password reset for {auth.normalise_username(args.username)}\n")
        elif args.command in ("disable", "enable"):
            auth.set_disabled(con, args.username, args.command == "disable", actor=actor)
            stdout.write(f"{args.command}d {auth.normalise_username(args.username)}\n")
        elif args.command == "role":
            auth.set_role(con, args.username, role=args.role, county_code=args.county, actor=actor)
            stdout.write(f"{auth.normalise_username(args.username)} is now {args.role}\n")
        else:
            users = auth.list_users(con)
            if users.empty:
                stdout.write("no accounts yet; create the first administrator with: "
                             "python -m scripts.users add NAME --role admin\n")
            else:
                stdout.write(users.to_string(index=False) + "\n")
    except JiugaiError as exc:
        log.error("%s", exc)
        return 1
    finally:
        con.close()
    return 0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(run())


if __name__ == "__main__":
    main()
