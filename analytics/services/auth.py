"""Who may change what: roles, permissions, accounts, sign-in with throttling, sessions that expire.

Reading needs no account (a meeting must not start with a login screen); every write path calls
:func:`require` on the server side at the point of writing. Accounts live in the ``users`` table with
bcrypt password hashes; passwords are never stored, logged or written to the audit log in plain text.
Sessions are random tokens kept by the browser session; only their SHA-256 is stored (``sessions``).
Repeated wrong passwords lock the username for a growing time (``sign_in_failures``, so the lock
survives a restart). Times are naive local ``datetime`` values, as in ``audit_log``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar, cast

import bcrypt
import duckdb
import pandas as pd

from analytics import settings
from analytics._sql import scalar
from analytics.errors import DataError, InputError, PermissionDenied, SignInFailed, SignInThrottled
from analytics.importing.write import disk_full_error, is_disk_full
from analytics.store import audit

log = logging.getLogger(__name__)
T = TypeVar("T")

Role = Literal["viewer", "county_editor", "admin"]
Permission = Literal["submit_report", "import", "undo", "manage_users", "backup", "adopt_plan", "configure"]
ROLES: tuple[str, ...] = ("viewer", "county_editor", "admin")

# Role -> permissions. Reading needs no permission (a meeting must not start with a login screen).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "county_editor": frozenset({"submit_report"}),
    "admin": frozenset({"submit_report", "import", "undo", "manage_users", "backup", "adopt_plan", "configure"}),
}

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
BCRYPT_MAX_BYTES = 72  # bcrypt reads at most 72 bytes of a password
SESSION_TOUCH_S = 60  # refresh a session's last-seen time at most once a minute
FAILURE_MEMORY_H = 24  # wrong passwords older than this (with none since) are forgotten
_WRONG_CREDENTIALS = "The username or password is wrong; check both and try again."


@dataclass(frozen=True)
class User:
    """A signed-in account: ``county_code`` is an editor's reporting unit (a county or a function zone).

    An editor submits only that unit's reports.
    """

    username: str
    role: Role
    county_code: str | None = None


def require(
    user: User | None,
    permission: Permission,
    *,
    county_code: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> User:
    """``user``, after raising ``PermissionDenied`` unless they may perform ``permission`` (for ``county_code``).

    Called at the point of writing, on the server side, by every write function. A county editor may
    submit reports only for their own county; ``county_code`` must then be given. With ``con`` a refusal
    is recorded in the audit log (``permission_refused``: who, which permission, which county).
    """
    if permission not in ROLE_PERMISSIONS["admin"]:
        raise PermissionDenied(f"`permission` was {permission!r} but must be one of {sorted(ROLE_PERMISSIONS['admin'])!r}.")
    refusal: PermissionDenied | None = None
    if user is None:
        refusal = PermissionDenied(f"Signing in is required to {permission.replace('_', ' ')}; nothing was changed.",
                                   code="permission.signed_out", permission=permission)
    elif permission not in ROLE_PERMISSIONS.get(user.role, frozenset()):
        refusal = PermissionDenied(
            f"User {user.username!r} (role {user.role!r}) may not {permission.replace('_', ' ')}; nothing was changed.",
            code="permission.role", permission=permission, role=user.role,
        )
    elif user.role == "county_editor" and (county_code is None or county_code != user.county_code):
        refusal = PermissionDenied(
            f"User {user.username!r} may write only for unit {user.county_code!r}, not {county_code!r}; "
            "nothing was changed.",
            code="permission.county", county_code=user.county_code,
        )
    if refusal is None:
        return cast(User, user)  # a missing user is refused above
    if con is not None:
        record_refusal(con, user, permission, county_code=county_code)
    raise refusal


def record_refusal(
    con: duckdb.DuckDBPyConnection, user: User | None, permission: str, *, county_code: str | None = None
) -> None:
    """Write a refused permission to the audit log (a failure to write it is logged, never raised)."""
    try:
        audit.record(con, username=user.username if user else None, action="permission_refused",
                     detail={"permission": permission, "county_code": county_code,
                             "role": user.role if user else None})
    except duckdb.Error as exc:
        log.error("a refused %s could not be written to the audit log (%s)", permission, type(exc).__name__)
    log.warning("permission %s refused to %r", permission, user.username if user else None)


# --- passwords -----------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """Usernames are compared lower-case without surrounding spaces."""
    return str(username).strip().lower()


def check_password_policy(password: str, *, username: str) -> None:
    """Raise ``InputError`` unless ``password`` is long enough, fits bcrypt, and is not the username.

    The message never repeats the password.
    """
    if not isinstance(password, str):
        raise InputError(f"`password` must be text, not {type(password).__name__!r}.")
    if len(password) < settings.PASSWORD_MIN_LENGTH:
        raise InputError(
            f"`password` has {len(password)} characters but must have at least {settings.PASSWORD_MIN_LENGTH}.",
            code="auth.password_short", min_length=settings.PASSWORD_MIN_LENGTH,
        )
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise InputError(
            f"`password` is {len(password.encode('utf-8'))} bytes in UTF-8 but may be at most {BCRYPT_MAX_BYTES} "
            "(about 24 Chinese characters); choose a shorter one.",
            code="auth.password_long",
        )
    if password.strip().lower() == normalise_username(username):
        raise InputError("`password` must not be the username; choose another.", code="auth.password_is_username")


def hash_password(password: str) -> str:
    """Bcrypt hash (cost ``settings.BCRYPT_ROUNDS``) of ``password`` as text; the salt is inside it."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=settings.BCRYPT_ROUNDS)).decode("ascii")


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    # Unknown usernames are checked against this hash of a random password, so that they take as long
    # to refuse as a wrong password and the timing does not reveal which usernames exist.
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds))


def verify_password(password: str, password_hash: str | bytes) -> bool:
    """True when ``password`` matches the bcrypt ``password_hash`` (constant time)."""
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    stored = password_hash.encode("ascii") if isinstance(password_hash, str) else password_hash
    return bcrypt.checkpw(raw, stored)


# --- accounts ------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return datetime.now() if now is None else now


def _check_role(con: duckdb.DuckDBPyConnection, role: str, county_code: str | None) -> None:
    if role not in ROLES:
        raise InputError(f"`role` was {role!r} but must be one of {ROLES!r}.")
    if role == "county_editor":
        known = [r[0] for r in con.execute("SELECT unit_code FROM units").fetchall()] or list(settings.COUNTIES)
        if county_code not in known:
            raise InputError(
                f"`county_code` was {county_code!r} but an editor needs a reporting unit, one of {known!r}.",
                code="auth.editor_needs_county",
            )
    elif county_code is not None:
        raise InputError(f"`county_code` was {county_code!r} but only a county editor has a county; leave it empty.",
                         code="auth.county_only_for_editors")


def _row(con: duckdb.DuckDBPyConnection, username: str) -> tuple | None:
    return con.execute(
        "SELECT username, password_hash, role, county_code, disabled FROM users WHERE username = ?", [username]
    ).fetchone()


def _existing(con: duckdb.DuckDBPyConnection, username: str) -> tuple:
    row = _row(con, normalise_username(username))
    if row is None:
        raise InputError(f"`username` {normalise_username(username)!r} has no account; see the list of users.",
                         code="auth.no_account", username=normalise_username(username))
    return row


def _in_transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """``work()`` in one transaction; a full disk is reported (and logged) as a ``DataError`` saying so."""
    con.execute("BEGIN TRANSACTION")
    try:
        result = work()
        con.execute("COMMIT")
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # DuckDB already aborted the transaction (e.g. after a conflict)
        if isinstance(exc, duckdb.Error) and is_disk_full(exc):
            raise disk_full_error(exc, what="an account change") from exc
        raise
    return result


def _cause(exc: BaseException) -> str:
    """What went wrong with the database, for the log: a full disk by name, anything else by its class."""
    return "the disk holding the database is full" if is_disk_full(exc) or (
        isinstance(exc, DataError) and exc.code == "store.disk_full") else type(exc).__name__


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    """The enabled account ``username`` as a :class:`User`, or None if there is none or it is disabled."""
    row = _row(con, normalise_username(username))
    if row is None or row[4]:
        return None
    return User(row[0], row[2], row[3])


def create_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    role: Role,
    county_code: str | None = None,
    display_name: str | None = None,
    actor: User,
    now: datetime | None = None,
) -> User:
    """Create an account with a bcrypt hash of ``password``; record it in the audit log.

    Parameters
    ----------
    username
        3–32 characters: lower-case letters, digits, ``_ . -`` (stored lower-case).
    password
        At least ``settings.PASSWORD_MIN_LENGTH`` characters, at most 72 bytes in UTF-8.
    role
        ``"viewer"`` (reads everything), ``"county_editor"`` (submits its county's weekly reports) or
        ``"admin"`` (imports, undo, accounts, backups).
    county_code
        The county of a county editor (national code, e.g. ``"370811"``); empty for the other roles.
    actor
        Who makes the change; must hold ``manage_users``. The command-line tool acts as an administrator.
    """
    require(actor, "manage_users", con=con)
    name = normalise_username(username)
    if not USERNAME_PATTERN.match(name):
        raise InputError(
            f"`username` was {username!r} but must be 3–32 characters of a–z, 0–9, '_', '.', '-', "
            "starting with a letter or digit.",
            code="auth.username_invalid", username=username,
        )
    _check_role(con, role, county_code)
    check_password_policy(password, username=name)
    if _row(con, name) is not None:
        raise InputError(f"`username` {name!r} already has an account; reset its password instead.",
                         code="auth.username_taken", username=name)
    stamp = _now(now)
    password_hash = hash_password(password)

    def work() -> None:
        con.execute(
            """INSERT INTO users (username, password_hash, role, county_code, display_name, disabled,
                                  created_at, created_by, password_changed_at)
               VALUES (?, ?, ?, ?, ?, false, ?, ?, ?)""",
            [name, password_hash, role, county_code, display_name, stamp, actor.username, stamp],
        )
        audit.record(
            con, username=actor.username, action="user_create", table_name="users", rows_written=1,
            detail={"user": name, "role": role, "county_code": county_code},
        )

    _in_transaction(con, work)
    log.info("account %r created by %r (role %s)", name, actor.username, role)
    return User(name, role, county_code)


def reset_password(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, actor: User, now: datetime | None = None
) -> None:
    """Set a new password for ``username``, end its sessions and clear its sign-in lock; audited."""
    require(actor, "manage_users", con=con)
    name = _existing(con, username)[0]
    check_password_policy(password, username=name)
    password_hash = hash_password(password)

    def work() -> None:
        con.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
            [password_hash, _now(now), name],
        )
        con.execute("DELETE FROM sessions WHERE username = ?", [name])
        con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])
        audit.record(con, username=actor.username, action="user_reset_password", table_name="users",
                     rows_written=1, detail={"user": name})

    _in_transaction(con, work)
    log.info("password of %r reset by %r", name, actor.username)


def change_own_password(
    con: duckdb.DuckDBPyConnection,
    user: User,
    old_password: str,
    new_password: str,
    *,
    keep_token: str | None = None,
    now: datetime | None = None,
) -> None:
    """Let a signed-in ``user`` change their own password after confirming the old one; audited.

    The old password is checked like a sign-in: under the same throttle (wrong ones count towards the
    username's lock, and a locked username cannot change its password). Every other session of the
    account ends; ``keep_token`` (the session making the change) stays signed in.

    Raises
    ------
    SignInThrottled
        The username is locked after too many wrong passwords.
    SignInFailed
        The current password is wrong (or the account is disabled); nothing was changed.
    """
    stamp = _now(now)
    try:
        row = _check_password(con, user.username, old_password, stamp)
    except SignInThrottled:
        raise
    except SignInFailed:
        raise SignInFailed("The current password is wrong; nothing was changed.") from None
    if row[4]:
        raise SignInFailed("The current password is wrong; nothing was changed.")
    check_password_policy(new_password, username=row[0])
    password_hash = hash_password(new_password)
    keep = _token_digest(keep_token) if keep_token else ""

    def work() -> int:
        con.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
            [password_hash, stamp, row[0]],
        )
        ended = int(scalar(con, "DELETE FROM sessions WHERE username = ? AND token_sha256 <> ?", [row[0], keep]))
        audit.record(con, username=row[0], action="user_change_password", table_name="users", rows_written=1,
                     detail={"user": row[0], "sessions_ended": ended})
        return ended

    ended = _in_transaction(con, work)
    log.info("%r changed their own password (%d other sessions ended)", row[0], ended)


def _enabled_admins(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT username FROM users WHERE role = 'admin' AND NOT disabled ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def set_disabled(con: duckdb.DuckDBPyConnection, username: str, disabled: bool, *, actor: User) -> None:
    """Disable (and sign out) or re-enable ``username``; audited.

    The last enabled administrator cannot be disabled, and no one can disable their own account.
    """
    require(actor, "manage_users", con=con)
    name, _, role, _, was_disabled = _existing(con, username)
    if disabled and name == actor.username:
        raise InputError(f"`username` {name!r} is your own account; another administrator must disable it.",
                         code="auth.own_account")
    if disabled and role == "admin" and not was_disabled and _enabled_admins(con) == [name]:
        raise InputError(f"`username` {name!r} is the last enabled administrator; create another one first.",
                         code="auth.last_admin", username=name)

    def work() -> None:
        con.execute("UPDATE users SET disabled = ? WHERE username = ?", [bool(disabled), name])
        if disabled:
            con.execute("DELETE FROM sessions WHERE username = ?", [name])
        audit.record(con, username=actor.username, action="user_disable" if disabled else "user_enable",
                     table_name="users", rows_written=1, detail={"user": name})

    _in_transaction(con, work)
    log.info("account %r %s by %r", name, "disabled" if disabled else "enabled", actor.username)


def set_role(
    con: duckdb.DuckDBPyConnection, username: str, *, role: Role, county_code: str | None = None, actor: User
) -> None:
    """Change the role (and county) of ``username``, ending its sessions; audited.

    The last enabled administrator keeps the administrator role.
    """
    require(actor, "manage_users", con=con)
    name, _, old_role, _, disabled = _existing(con, username)
    _check_role(con, role, county_code)
    if old_role == "admin" and role != "admin" and not disabled and _enabled_admins(con) == [name]:
        raise InputError(f"`username` {name!r} is the last enabled administrator; create another one first.",
                         code="auth.last_admin", username=name)

    def work() -> None:
        con.execute("UPDATE users SET role = ?, county_code = ? WHERE username = ?", [role, county_code, name])
        con.execute("DELETE FROM sessions WHERE username = ?", [name])
        audit.record(con, username=actor.username, action="user_set_role", table_name="users", rows_written=1,
                     detail={"user": name, "role": role, "county_code": county_code, "old_role": old_role})

    _in_transaction(con, work)
    log.info("role of %r set to %s by %r", name, role, actor.username)


def list_users(con: duckdb.DuckDBPyConnection, *, now: datetime | None = None) -> pd.DataFrame:
    """Every account without its password hash, with when it is locked until (if it is).

    Columns: ``username, display_name, role, county_code, disabled, created_at, created_by,
    password_changed_at, last_login_at, locked_until``; ordered by username.
    """
    return con.execute(
        """SELECT u.username, u.display_name, u.role, u.county_code, u.disabled, u.created_at, u.created_by,
                  u.password_changed_at, u.last_login_at,
                  CASE WHEN f.locked_until > ? THEN f.locked_until END AS locked_until
           FROM users u LEFT JOIN sign_in_failures f USING (username) ORDER BY u.username""",
        [_now(now)],
    ).fetchdf()


# --- signing in ----------------------------------------------------------------------------------


def lock_seconds(failures: int) -> int:
    """Seconds a username stays locked after its ``failures``-th wrong password in a row (0 = not locked)."""
    extra = failures - settings.SIGN_IN_FREE_FAILURES
    if extra <= 0:
        return 0
    return int(min(settings.SIGN_IN_LOCK_BASE_S * 2 ** min(extra - 1, 30), settings.SIGN_IN_LOCK_MAX_S))


class _NameLocks:
    """One lock per username, held while its password is checked (the dashboard is one process).

    Parallel guesses for one username are checked one after another, so each sees the failures counted
    before it. A lock exists only while someone waits for or holds it: memory does not grow with the
    number of usernames tried.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # name -> [lock, number of holders and waiters]

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(name, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[name]

    def __len__(self) -> int:
        return len(self._locks)


_NAME_LOCKS = _NameLocks()


def _failure_key(name: str, exists: bool) -> str:
    """The ``sign_in_failures`` key: the username of an account, a digest for a name with no account.

    A name with no account is throttled like any other (so locks do not reveal which accounts exist),
    but stored only as a fixed-length digest, and such rows are capped in number.
    """
    return name if exists else "#" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def _count_attempt(con: duckdb.DuckDBPyConnection, key: str, stamp: datetime) -> tuple[int, int]:
    """Count one attempt for ``key`` before its password is checked, in one transaction.

    Returns ``(wait_s, failures)``: ``wait_s`` > 0 when ``key`` is locked (nothing is counted then);
    otherwise the attempt is stored as a failure (with the lock it would start) and ``failures`` is the
    count including it, cleared again if the password turns out right. Failures older than
    ``FAILURE_MEMORY_H`` are forgotten here, and at most ``settings.SIGN_IN_UNKNOWN_NAMES_MAX`` rows for
    names without an account are kept (the oldest go first).
    """
    def work() -> tuple[int, int]:
        row = con.execute(
            "SELECT failures, last_failure_at, locked_until FROM sign_in_failures WHERE username = ?", [key]
        ).fetchone()
        if row is not None and row[2] is not None and row[2] > stamp:
            return max(1, int((row[2] - stamp).total_seconds() + 0.999)), int(row[0])
        forget = stamp - timedelta(hours=FAILURE_MEMORY_H)
        con.execute("DELETE FROM sign_in_failures WHERE last_failure_at < ? AND coalesce(locked_until, ?) <= ?",
                    [forget, forget, stamp])
        recent = row is not None and row[1] >= forget
        failures = (int(row[0]) if row is not None and recent else 0) + 1
        seconds = lock_seconds(failures)
        if key.startswith("#") and row is None:
            unknown = int(scalar(con, "SELECT count(*) FROM sign_in_failures WHERE username LIKE '#%'"))
            surplus = unknown - settings.SIGN_IN_UNKNOWN_NAMES_MAX + 1
            if surplus > 0:
                con.execute(
                    """DELETE FROM sign_in_failures WHERE username IN (
                           SELECT username FROM sign_in_failures WHERE username LIKE '#%'
                           ORDER BY last_failure_at LIMIT ?)""", [surplus])
        con.execute(
            """INSERT INTO sign_in_failures (username, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?)
               ON CONFLICT (username) DO UPDATE SET failures = excluded.failures,
                   last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until""",
            [key, failures, stamp, stamp + timedelta(seconds=seconds) if seconds else None],
        )
        return 0, failures

    return _in_transaction(con, work)


def _check_password(con: duckdb.DuckDBPyConnection, username: object, password: object, stamp: datetime) -> tuple:
    """The account row of ``username`` if ``password`` is right; the throttle, counting and refusals.

    In this order: a name that cannot be a username is refused before anything else (nothing stored,
    nothing logged); under the username's lock the attempt is counted, then the password checked with
    bcrypt (unknown names against a dummy hash, so timing does not tell them apart). Any database error
    is a refusal.
    """
    raw = username if isinstance(username, str) else ""
    name = normalise_username(raw[:64])
    if len(raw) > 64 or not USERNAME_PATTERN.fullmatch(name):
        raise SignInFailed(_WRONG_CREDENTIALS)
    secret = password if isinstance(password, str) else ""
    with _NAME_LOCKS.hold(name):
        try:
            row = _row(con, name)
            key = _failure_key(name, row is not None)
            wait_s, failures = _count_attempt(con, key, stamp)
        except (duckdb.Error, DataError) as exc:
            log.error("sign-in for %r refused: the database could not count the attempt (%s)", name, _cause(exc))
            raise SignInFailed("The sign-in could not be checked just now; try again in a moment.") from None
        if wait_s:
            raise SignInThrottled(f"Too many wrong passwords for {name!r}; try again in {wait_s} s.",
                                  retry_after_s=wait_s)
        ok = verify_password(secret, row[1] if row else _dummy_hash(settings.BCRYPT_ROUNDS))
        if row and ok:
            try:
                con.execute("DELETE FROM sign_in_failures WHERE username = ?", [key])
            except duckdb.Error as exc:
                log.error("sign-in for %r refused: the database could not clear its count (%s)", name, _cause(exc))
                raise SignInFailed("The sign-in could not be checked just now; try again in a moment.") from None
            return row
        locked_s = lock_seconds(failures)
        log.info("sign-in refused for %r", name)
        if locked_s:
            log.warning("sign-in for %r locked for %d s after %d wrong passwords", name, locked_s, failures)
            if failures == settings.SIGN_IN_FREE_FAILURES + 1:
                try:
                    audit.record(con, username=None, action="sign_in_locked", table_name="sign_in_failures",
                                 detail={"user": name, "failures": failures, "locked_s": locked_s})
                except duckdb.Error:
                    log.error("the lock of %r could not be written to the audit log", name)
            raise SignInThrottled(
                f"The username or password is wrong, and {name!r} is now locked; try again in {locked_s} s.",
                retry_after_s=locked_s,
            )
        raise SignInFailed(_WRONG_CREDENTIALS)


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str, *, now: datetime | None = None) -> User:
    """Check ``username`` and ``password``; return the :class:`User` or raise.

    Raises ``SignInThrottled`` (with ``retry_after_s``) while the username is locked after too many wrong
    passwords — even for the right password — and for the wrong password that starts a lock;
    ``SignInFailed`` for a wrong username or password (one message for both, so it does not reveal which
    usernames exist), a name that cannot be a username, a disabled account, or a database error. Each
    attempt is counted per username in the database before the password is checked (so a restart does
    not clear it, and parallel guesses cannot outrun the count); a success clears the count and is
    recorded in the audit log.
    """
    stamp = _now(now)
    row = _check_password(con, username, password, stamp)
    name = row[0]
    if row[4]:
        raise SignInFailed(f"The account {name!r} is disabled; ask an administrator.")

    def work() -> None:
        con.execute("UPDATE users SET last_login_at = ? WHERE username = ?", [stamp, name])
        audit.record(con, username=name, action="sign_in", table_name="sessions")

    try:
        _in_transaction(con, work)
    except (duckdb.Error, DataError) as exc:
        log.error("sign-in of %r refused: the database could not record it (%s)", name, _cause(exc))
        raise SignInFailed("The sign-in could not be checked just now; try again in a moment.") from None
    log.info("%r signed in", name)
    return User(row[0], row[2], row[3])


# --- sessions ------------------------------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(con: duckdb.DuckDBPyConnection, user: User, *, now: datetime | None = None) -> str:
    """Open a session for ``user``; return its token (only its SHA-256 is stored).

    It ends ``settings.SESSION_TTL_MIN`` minutes after now, or after ``settings.SESSION_IDLE_MIN``
    minutes without :func:`session_user` being called; expired sessions are removed here.
    """
    stamp = _now(now)
    token = secrets.token_urlsafe(32)
    con.execute("DELETE FROM sessions WHERE expires_at <= ?", [stamp])
    con.execute(
        "INSERT INTO sessions (token_sha256, username, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
        [_token_digest(token), user.username, stamp, stamp + timedelta(minutes=settings.SESSION_TTL_MIN), stamp],
    )
    return token


def session_user(con: duckdb.DuckDBPyConnection, token: str | None, *, now: datetime | None = None) -> User | None:
    """The user of session ``token``, or None when it is unknown, expired, idle too long, or disabled.

    A live session's last-seen time is refreshed (at most once a minute).
    """
    if not token:
        return None
    stamp = _now(now)
    digest = _token_digest(token)
    row = con.execute(
        """SELECT s.expires_at, s.last_seen_at, u.username, u.role, u.county_code, u.disabled
           FROM sessions s JOIN users u USING (username) WHERE s.token_sha256 = ?""",
        [digest],
    ).fetchone()
    if row is None:
        return None
    expires_at, last_seen_at, name, role, county_code, disabled = row
    idle_limit = last_seen_at + timedelta(minutes=settings.SESSION_IDLE_MIN)
    if disabled or expires_at <= stamp or idle_limit <= stamp:
        con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [digest])
        log.info("session of %r ended (expired, idle or disabled)", name)
        return None
    if (stamp - last_seen_at).total_seconds() >= SESSION_TOUCH_S:
        try:
            con.execute("UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?", [stamp, digest])
        except duckdb.TransactionException:  # another tab of the same session touched it just now
            log.debug("session touch skipped for %r (concurrent update)", name)
    return User(name, role, county_code)


def end_session(con: duckdb.DuckDBPyConnection, token: str | None) -> None:
    """Sign out: forget session ``token`` (nothing happens for an unknown one); recorded in the audit log."""
    if not token:
        return
    digest = _token_digest(token)
    row = con.execute("SELECT username FROM sessions WHERE token_sha256 = ?", [digest]).fetchone()
    con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [digest])
    if row is not None:
        audit.record(con, username=row[0], action="sign_out", table_name="sessions")
