"""Dashboard operators: ``<data_dir>/operators.json`` and ``chargestream operators``.

The file maps each operator name to a PBKDF2 hash (chargestream.passwords);
it is written atomically with mode 0600. No Streamlit import here: the CLI
and the composition root use this module.
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
from functools import cache
from pathlib import Path

from chargestream.domain.passwords import hash_password, verify_password
from chargestream.domain.settings import Settings

FILE_NAME = "operators.json"
DEFAULT_OPERATOR = "admin"
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class OperatorFileError(ValueError):
    """operators.json exists but cannot be used; the message says why."""


def operators_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load_operators(data_dir: Path) -> dict[str, str]:
    """Operator name -> password hash; empty if the file does not exist."""
    path = operators_path(data_dir)
    try:
        content = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise OperatorFileError(f"{path}: {error}") from None
    if not isinstance(content, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in content.items()
    ):
        raise OperatorFileError(f"{path}: expected an object of name -> password hash")
    return content


def save_operators(data_dir: Path, operators: dict[str, str]) -> None:
    path = operators_path(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory: private
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".operators-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(dict(sorted(operators.items())), out, indent=2)
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


def authenticate(operators: dict[str, str], name: str, password: str) -> bool:
    """True if ``name`` is an operator with this password; unknown names cost the same time."""
    stored = operators.get(name)
    if stored is None:
        verify_password(password, _dummy_hash())
        return False
    return verify_password(password, stored)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def ensure_default_operator(data_dir: Path) -> str | None:
    """Create operator ``admin`` with a random password if there is no operator.

    Returns the generated password (to print once), or None if operators exist.
    """
    if load_operators(data_dir):
        return None
    password = secrets.token_urlsafe(12)
    save_operators(data_dir, {DEFAULT_OPERATOR: hash_password(password)})
    return password


# ------------------------------------------------------------------ the CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``chargestream operators add|remove|list``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="where operators.json lives (default: CHARGESTREAM_DATA_DIR or ./data)"
    )
    actions = parser.add_subparsers(dest="operators_action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", parents=[common], help="add an operator, or set an operator's password"
    )
    add.add_argument("name")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    remove = actions.add_parser("remove", parents=[common], help="remove an operator")
    remove.add_argument("name")
    actions.add_parser("list", parents=[common], help="list the operators")


def run(args: argparse.Namespace) -> int:
    try:
        data_dir = Path(args.data_dir) if args.data_dir else Settings.from_env().data_dir
        operators = load_operators(data_dir)
        if args.operators_action == "list":
            for name in sorted(operators):
                print(name)
            return 0
        check_name(args.name)
        if args.operators_action == "remove":
            if operators.pop(args.name, None) is None:
                print(f"chargestream operators: no operator {args.name!r}", file=sys.stderr)
                return 1
            save_operators(data_dir, operators)
            print(f"removed operator {args.name}")
            return 0
        password = _read_password(args.password_stdin)
        check_password(password)
    except ValueError as error:  # SettingsError, OperatorFileError, bad name or password
        print(f"chargestream operators: {error}", file=sys.stderr)
        return 2
    existed = args.name in operators
    operators[args.name] = hash_password(password)
    save_operators(data_dir, operators)
    print(f"{'updated' if existed else 'added'} operator {args.name} in {operators_path(data_dir)}")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != password:
        raise ValueError("the passwords do not match")
    return password
