"""The help a new user reads first: a table of contents of the month, exit codes, an example everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from disburse.cli import app

runner = CliRunner()


def commands(group: typer.core.TyperGroup, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every leaf command as the words a user types after `disburse`."""
    for name in group.list_commands(None):  # type: ignore[arg-type]
        command = group.commands[name]
        if isinstance(command, typer.core.TyperGroup):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


ALL_COMMANDS = sorted(commands(typer.main.get_command(app)))  # type: ignore[arg-type]


def help_of(*words: str) -> str:
    result = runner.invoke(app, [*words, "--help"], prog_name="disburse")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_of_the_issue_exists() -> None:
    for needed in [
        ("init",),
        ("status",),
        ("import", "orders"),
        ("import", "events"),
        ("import", "payouts"),
        ("reconcile",),
        ("exceptions", "list"),
        ("exceptions", "show"),
        ("exceptions", "ack"),
        ("exceptions", "resolve"),
        ("close",),
        ("reopen",),
        ("history",),
        ("ledger", "verify"),
        ("config", "show"),
        ("fixtures", "generate"),
        ("demo",),
    ]:
        assert needed in ALL_COMMANDS


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_an_example_of_itself(words: tuple[str, ...]) -> None:
    text = help_of(*words)
    assert "Example:" in text, text
    example = text.split("Example:", 1)[1].split()
    assert example[: 1 + len(words)] == ["disburse", *words], text


def test_top_level_help_is_the_month_in_order_with_exit_codes() -> None:
    text = help_of()
    steps = [
        "disburse init",
        "disburse status",
        "disburse import orders",
        "disburse import payouts",
        "disburse reconcile",
        "disburse exceptions",
        "disburse close",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions), "the table of contents follows the month"
    listed = [line.split()[0] for line in text.split("Commands:", 1)[1].splitlines() if line.startswith("  ")]
    month = [w for w in listed if w in {"init", "status", "import", "reconcile", "exceptions", "close"}]
    assert month == ["init", "status", "import", "reconcile", "exceptions", "close"]
    codes = text.split("Exit codes:", 1)[1]
    for code, meaning in (("0", "success"), ("1", "--fail-on"), ("2", "bad usage or bad input")):
        line = next(li for li in codes.splitlines() if li.strip().startswith(code + " "))
        assert meaning in line
    assert "DISBURSE_DATABASE_URL" in text and "disburse.toml" in text


def test_read_commands_offer_json_and_write_commands_quiet() -> None:
    for words in [
        ("status",),
        ("exceptions", "list"),
        ("exceptions", "show"),
        ("history",),
        ("config", "show"),
        ("ledger", "verify"),
    ]:
        assert "--json" in help_of(*words), words
    for words in [("import", "orders"), ("import", "payouts"), ("reconcile",), ("demo",), ("close",)]:
        assert "--quiet" in help_of(*words), words
    assert "--fail-on" in help_of("reconcile")
    assert "--older-than-days" in help_of("exceptions", "list")


def test_no_arguments_shows_the_help_not_an_error() -> None:
    result = runner.invoke(app, [], prog_name="disburse")
    assert "A month, in order" in result.output
    assert result.exit_code in (0, 2)  # no_args_is_help exits 2 in recent typer: usage, not a crash
