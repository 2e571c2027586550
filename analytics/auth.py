"""Who may change what: roles, permissions and the server-side check every write path calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analytics.errors import PermissionDenied

Role = Literal["viewer", "county_editor", "admin"]
Permission = Literal["submit_report", "import", "undo", "manage_users", "backup"]
ROLES: tuple[str, ...] = ("viewer", "county_editor", "admin")

# Role -> permissions. Reading needs no permission (a meeting must not start with a login screen).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "county_editor": frozenset({"submit_report"}),
    "admin": frozenset({"submit_report", "import", "undo", "manage_users", "backup"}),
}


@dataclass(frozen=True)
class User:
    """A signed-in account: ``county_code`` is set for county editors (their own county only)."""

    username: str
    role: Role
    county_code: str | None = None


def require(user: User | None, permission: Permission, *, county_code: str | None = None) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may perform ``permission`` (for ``county_code``).

    Called at the point of writing, on the server side, by every write function. A county editor may
    submit reports only for their own county; ``county_code`` must then be given.
    """
    if permission not in ROLE_PERMISSIONS["admin"]:
        raise PermissionDenied(f"`permission` was {permission!r} but must be one of {sorted(ROLE_PERMISSIONS['admin'])!r}.")
    if user is None:
        raise PermissionDenied(f"Signing in is required to {permission.replace('_', ' ')}; nothing was changed.")
    if permission not in ROLE_PERMISSIONS.get(user.role, frozenset()):
        raise PermissionDenied(
            f"User {user.username!r} (role {user.role!r}) may not {permission.replace('_', ' ')}; nothing was changed."
        )
    if user.role == "county_editor":
        if county_code is None or county_code != user.county_code:
            raise PermissionDenied(
                f"User {user.username!r} may write only for county {user.county_code!r}, not {county_code!r}; "
                "nothing was changed."
            )
