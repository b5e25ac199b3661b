"""Dashboard operators: ``<data_dir>/operators.json`` and ``chargestream operators``.

The file maps each operator name to its PBKDF2 password hash (chargestream.passwords)
and its role (ui.roles): ``{"alice": {"password_hash": "pbkdf2_sha256$…", "role":
"operator"}}``; it is written atomically with mode 0600. A file from before roles maps
names to hashes only (``{"alice": "pbkdf2_sha256$…"}``): those operators are admins, so
an upgrade locks nobody out, and the next write stores the role. No Streamlit import
here: the CLI and the composition root use this module.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chargestream.domain.passwords import hash_password, verify_password
from chargestream.domain.settings import Settings
from chargestream.ui.roles import Role, parse_role

FILE_NAME = "operators.json"
DEFAULT_OPERATOR = "admin"  # created with the role admin on first start
NEW_OPERATOR_ROLE = Role.VIEWER  # `operators add` of a new name without --role: least privilege
LEGACY_ROLE = Role.ADMIN  # an operator stored without a role (a file from before roles)
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class OperatorFileError(ValueError):
    """operators.json exists but cannot be used; the message says why."""


@dataclass(frozen=True)
class Operator:
    password_hash: str
    role: Role


def operators_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load_operators(data_dir: Path) -> dict[str, Operator]:
    """Operator name -> password hash and role; empty if the file does not exist."""
    path = operators_path(data_dir)
    try:
        content = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise OperatorFileError(f"{path}: {error}") from None
    if not isinstance(content, dict):
        raise OperatorFileError(f"{path}: expected an object of name -> operator")
    return {name: _operator(path, name, entry) for name, entry in content.items()}


def _operator(path: Path, name: str, entry: object) -> Operator:
    if isinstance(entry, str):  # stored before roles existed
        return Operator(entry, LEGACY_ROLE)
    if isinstance(entry, dict) and isinstance(entry.get("password_hash"), str):
        try:
            return Operator(entry["password_hash"], parse_role(str(entry.get("role", ""))))
        except ValueError as error:
            raise OperatorFileError(f"{path}: operator {name!r}: {error}") from None
    raise OperatorFileError(f"{path}: operator {name!r}: expected a password hash and a role")


def save_operators(data_dir: Path, operators: dict[str, Operator]) -> None:
    path = operators_path(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory: private
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".operators-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(
                {
                    name: {"password_hash": operator.password_hash, "role": operator.role.value}
                    for name, operator in sorted(operators.items())
                },
                out,
                indent=2,
            )
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError("operator names have 1 to 64 letters, digits or . _ @ -")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")


def authenticate(operators: dict[str, Operator], name: str, password: str) -> bool:
    """True if ``name`` is an operator with this password; unknown names cost the same time."""
    stored = operators.get(name)
    if stored is None:
        verify_password(password, _dummy_hash())
        return False
    return verify_password(password, stored.password_hash)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def ensure_default_operator(data_dir: Path) -> str | None:
    """Create operator ``admin`` (role admin) with a random password if there is no operator.

    Returns the generated password (to print once), or None if operators exist.
    """
    if load_operators(data_dir):
        return None
    password = secrets.token_urlsafe(12)
    save_operators(data_dir, {DEFAULT_OPERATOR: Operator(hash_password(password), Role.ADMIN)})
    return password


# ------------------------------------------------------------------ the CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``chargestream operators add|role|remove|list``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="where operators.json lives (default: CHARGESTREAM_DATA_DIR or ./data)"
    )
    actions = parser.add_subparsers(dest="operators_action", required=True, metavar="ACTION")
    roles = [r.value for r in Role]
    add = actions.add_parser(
        "add", parents=[common], help="add an operator, or set an operator's password"
    )
    add.add_argument("name")
    add.add_argument(
        "--role",
        choices=roles,
        help=f"viewer (read only), operator (also commands, id tags, alerts) or admin "
        f"(also alert rules, security); default: {NEW_OPERATOR_ROLE.value} for a new "
        "operator, unchanged for an existing one",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    role = actions.add_parser(
        "role", parents=[common], help="change an operator's role (the password stays)"
    )
    role.add_argument("name")
    role.add_argument("role", choices=roles)
    remove = actions.add_parser("remove", parents=[common], help="remove an operator")
    remove.add_argument("name")
    actions.add_parser("list", parents=[common], help="list the operators and their roles")


def run(args: argparse.Namespace) -> int:
    try:
        data_dir = Path(args.data_dir) if args.data_dir else Settings.from_env().data_dir
        operators = load_operators(data_dir)
        if args.operators_action == "list":
            width = max((len(name) for name in operators), default=0)
            for name, operator in sorted(operators.items()):
                print(f"{name:<{width}}  {operator.role.value}")
            return 0
        check_name(args.name)
        if args.operators_action in ("remove", "role") and args.name not in operators:
            print(f"chargestream operators: no operator {args.name!r}", file=sys.stderr)
            return 1
        if args.operators_action == "remove":
            del operators[args.name]
            save_operators(data_dir, operators)
            print(f"removed operator {args.name}")
            return 0
        if args.operators_action == "role":
            role = parse_role(args.role)
            operators[args.name] = Operator(operators[args.name].password_hash, role)
            save_operators(data_dir, operators)
            print(f"operator {args.name} now has the role {role.value}")
            return 0
        password = _read_password(args.password_stdin)
        check_password(password)
    except ValueError as error:  # SettingsError, OperatorFileError, bad name, role or password
        print(f"chargestream operators: {error}", file=sys.stderr)
        return 2
    existing = operators.get(args.name)
    kept = existing.role if existing else NEW_OPERATOR_ROLE
    role = parse_role(args.role) if args.role else kept
    operators[args.name] = Operator(hash_password(password), role)
    save_operators(data_dir, operators)
    print(
        f"{'updated' if existing else 'added'} operator {args.name} ({role.value}) "
        f"in {operators_path(data_dir)}"
    )
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != password:
        raise ValueError("the passwords do not match")
    return password
