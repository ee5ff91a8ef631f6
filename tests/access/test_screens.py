"""The control room's screens per role come from the permission table (access/screens.py)."""

from __future__ import annotations

import pytest

from camgrid.access.policy import PERMISSIONS
from camgrid.access.screens import SCREENS, permissions_of, screens_of
from camgrid.vocabulary import ALL_ROLES, Role


def test_every_screen_names_a_real_permission() -> None:
    assert set(SCREENS.values()) <= set(PERMISSIONS)


@pytest.mark.parametrize(
    ("role", "screens"),
    [
        (Role.VIEWER, ["map", "live"]),
        (Role.OPERATOR, ["map", "live", "playback", "exports", "incidents", "reports"]),
        (Role.AUDITOR, ["map", "exports", "incidents", "reports", "audit"]),
        (Role.ADMIN, ["map", "incidents", "reports", "users", "cameras", "planner"]),
        (Role.PLANNER, ["map", "planner"]),
    ],
)
def test_screens_of_role(role: Role, screens: list[str]) -> None:
    assert screens_of(role) == screens


def test_permissions_of_matches_the_table() -> None:
    for role in ALL_ROLES:
        assert set(permissions_of(role)) == {p for p, roles in PERMISSIONS.items() if role in roles}
