"""Dashboard roles and what each may do: viewer, operator, admin.

Every operator in ``operators.json`` has one role (see ui.operators); the roles are
ordered, each allowing what the one below it allows:

- ``viewer``: reads every page, changes nothing;
- ``operator``: also sends commands to charge points (remote control, reading a charge
  point's configuration), requests and downloads diagnostics files, changes id tags and
  site limits, acknowledges alerts and sends test notifications;
- ``admin``: also changes alert rules, notification channels (their secrets) and anything
  security related: a charge point's security profile and password (rotation,
  ChangeConfiguration of ``AuthorizationKey``), certificates and signed firmware;
  operators and their passwords are managed with ``chargestream operators`` on the CSMS
  host.

Pages show a control only enabled for a role it allows, and the action itself checks the
role again when it runs (``ui.auth.permitted``). No Streamlit import here.
"""

from __future__ import annotations

from enum import Enum, StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """True if this role may do what ``needed`` may do."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


class Permission(Enum):
    """An action on the dashboard: the least role that may take it, and what it is."""

    SEND_COMMANDS = (Role.OPERATOR, "send commands to charge points")
    CHANGE_ID_TAGS = (Role.OPERATOR, "change id tags")
    ACKNOWLEDGE_ALERTS = (Role.OPERATOR, "acknowledge alerts")
    DIAGNOSTICS = (Role.OPERATOR, "request and download diagnostics files")
    CHANGE_SITES = (Role.OPERATOR, "change site limits")
    CHANGE_EXCLUSIONS = (Role.OPERATOR, "enter availability exclusions")
    CHANGE_ALERT_RULES = (Role.ADMIN, "change alert rules")
    TEST_NOTIFICATIONS = (Role.OPERATOR, "send test notifications")
    CHANGE_NOTIFICATIONS = (Role.ADMIN, "change notification channels")
    MANAGE_CERTIFICATES = (Role.ADMIN, "manage certificates and signed firmware updates")
    CHANGE_SECURITY_PROFILES = (Role.ADMIN, "change a charge point's security profile")
    CHANGE_PASSWORDS = (Role.ADMIN, "change charge point passwords")

    def __init__(self, role: Role, description: str) -> None:
        self.role = role
        self.description = description

    def refusal(self, role: Role | None) -> str:
        """Why ``role`` may not take this action (for a disabled control or a refused one)."""
        who = f"The role {role.value}" if role else "Only a signed-in operator"
        allowed = " or ".join(r.value for r in Role if r.allows(self.role))
        return f"{who} may not {self.description}: that needs the role {allowed}."


def parse_role(text: str) -> Role:
    """A role from its name; ValueError names the roles there are."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}: the roles are {names}") from None
