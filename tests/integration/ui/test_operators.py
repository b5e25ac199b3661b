"""Dashboard operators (file and CLI), launching the dashboard, and the store factory."""

from __future__ import annotations

import argparse
import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chargestream.app.backends import create_store
from chargestream.app.dashboard import settings_environment, stop_ui, ui_command
from chargestream.domain.passwords import hash_password, verify_password
from chargestream.domain.records import RegistrationPolicy
from chargestream.domain.settings import Mode, Settings
from chargestream.storage.cassandra import CassandraStore
from chargestream.storage.sqlite import SqliteStore
from chargestream.ui.operators import (
    Operator,
    OperatorFileError,
    add_arguments,
    authenticate,
    ensure_default_operator,
    load_operators,
    operators_path,
    run,
)
from chargestream.ui.roles import Role


def operators_cli(data_dir: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="chargestream operators")
    add_arguments(parser)
    args = parser.parse_args([*argv, "--data-dir", str(data_dir)])
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        code = run(args)
    return code, out.getvalue(), err.getvalue()


def test_add_list_change_and_remove_operators(tmp_path: Path) -> None:
    code, out, _ = operators_cli(tmp_path, "add", "alice", "--password-stdin", stdin="s3cret-pw\n")
    assert code == 0 and out.startswith("added operator alice")
    stored = json.loads(operators_path(tmp_path).read_text())
    assert verify_password("s3cret-pw", stored["alice"]["password_hash"])  # hashed, not as is
    assert "s3cret-pw" not in operators_path(tmp_path).read_text()
    assert stat.S_IMODE(operators_path(tmp_path).stat().st_mode) == 0o600

    operators_cli(tmp_path, "add", "bob", "--password-stdin", stdin="another-pw\n")
    assert operators_cli(tmp_path, "list") == (0, "alice  viewer\nbob    viewer\n", "")

    code, out, _ = operators_cli(tmp_path, "add", "alice", "--password-stdin", stdin="new-pass1\n")
    assert code == 0 and out.startswith("updated operator alice")
    operators = load_operators(tmp_path)
    assert authenticate(operators, "alice", "new-pass1")
    assert not authenticate(operators, "alice", "s3cret-pw")
    assert not authenticate(operators, "nobody", "new-pass1")

    assert operators_cli(tmp_path, "remove", "bob")[0] == 0
    assert operators_cli(tmp_path, "list")[1] == "alice  viewer\n"
    code, _, err = operators_cli(tmp_path, "remove", "bob")
    assert code == 1 and "no operator 'bob'" in err


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", "short", "at least 8 characters"),
        ("bad name", "long enough", "operator names have"),
    ],
)
def test_add_refuses_bad_names_and_short_passwords(
    tmp_path: Path, name: str, password: str, message: str
) -> None:
    code, _, err = operators_cli(tmp_path, "add", name, "--password-stdin", stdin=password)
    assert code == 2 and message in err
    assert load_operators(tmp_path) == {}


def test_roles_are_chosen_kept_and_changed(tmp_path: Path) -> None:
    code, out, _ = operators_cli(
        tmp_path, "add", "olga", "--role", "operator", "--password-stdin", stdin="olgas-pw\n"
    )
    assert code == 0 and out.startswith("added operator olga (operator)")
    operators_cli(tmp_path, "add", "vic", "--password-stdin", stdin="vics-pass\n")
    assert load_operators(tmp_path)["vic"].role is Role.VIEWER  # new, no --role: least privilege

    # a new password keeps the role; --role changes it
    code, out, _ = operators_cli(tmp_path, "add", "olga", "--password-stdin", stdin="new-pass\n")
    assert out.startswith("updated operator olga (operator)")
    operators_cli(
        tmp_path, "add", "olga", "--role", "admin", "--password-stdin", stdin="new-pass\n"
    )
    assert load_operators(tmp_path)["olga"].role is Role.ADMIN

    # `role` changes only the role
    before = load_operators(tmp_path)["vic"].password_hash
    assert operators_cli(tmp_path, "role", "vic", "operator") == (
        0,
        "operator vic now has the role operator\n",
        "",
    )
    assert load_operators(tmp_path)["vic"] == Operator(before, Role.OPERATOR)
    assert operators_cli(tmp_path, "list")[1] == "olga  admin\nvic   operator\n"
    code, _, err = operators_cli(tmp_path, "role", "nobody", "admin")
    assert code == 1 and "no operator 'nobody'" in err
    with pytest.raises(SystemExit):  # argparse: not one of the roles
        operators_cli(tmp_path, "role", "vic", "root")


def test_a_file_from_before_roles_lists_its_operators_as_admins(tmp_path: Path) -> None:
    operators_path(tmp_path).write_text(json.dumps({"alice": hash_password("old-password")}))
    assert operators_cli(tmp_path, "list") == (0, "alice  admin\n", "")
    operators_cli(tmp_path, "add", "alice", "--password-stdin", stdin="new-password\n")
    assert json.loads(operators_path(tmp_path).read_text())["alice"]["role"] == "admin"


def test_add_prompts_twice_without_password_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["typed-password", "typed-pasword"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    code, _, err = operators_cli(tmp_path, "add", "alice")
    assert code == 2 and "do not match" in err


def test_a_broken_operator_file_is_reported(tmp_path: Path) -> None:
    operators_path(tmp_path).write_text("[1, 2]")
    with pytest.raises(OperatorFileError, match="expected an object"):
        load_operators(tmp_path)
    code, _, err = operators_cli(tmp_path, "list")
    assert code == 2 and "operators.json" in err


def test_the_default_operator_is_created_once(tmp_path: Path) -> None:
    password = ensure_default_operator(tmp_path / "data")
    assert password is not None and len(password) >= 16
    assert authenticate(load_operators(tmp_path / "data"), "admin", password)
    assert ensure_default_operator(tmp_path / "data") is None


def test_the_ui_process_gets_the_settings_actually_used(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        api_port=18080,
        ui_port=18501,
        api_token=None,
        lenient=True,
        registration_policy=RegistrationPolicy.PENDING,
        command_timeout=2.5,
    )
    environment = settings_environment(settings)
    assert Settings.from_env(environment) == settings
    assert environment["CHARGESTREAM_API_TOKEN"] == ""
    command = ui_command(settings)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[command.index("--server.port") + 1] == "18501"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"


def test_stop_ui_kills_a_process_that_ignores_terminate() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            " print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    stop_ui(stubborn, timeout=0.2)
    assert stubborn.returncode == -9
    stubborn.stdout.close()
    stop_ui(stubborn)  # already stopped: nothing to do


def test_the_store_is_chosen_by_mode(tmp_path: Path) -> None:
    store = create_store(Settings(data_dir=tmp_path))
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "chargestream.db"
    stack = create_store(Settings(mode=Mode.STACK, cassandra_hosts="10.1.2.3,10.1.2.4"))
    assert isinstance(stack, CassandraStore) and stack.contact_points == ["10.1.2.3", "10.1.2.4"]
