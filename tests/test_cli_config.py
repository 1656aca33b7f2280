"""Settings: the environment over disburse.toml (or DISBURSE_CONFIG) over defaults, shown by `config show`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import disburse
from disburse import config, pipeline
from disburse.cli import app

runner = CliRunner()
SETTINGS_ENV = ("DISBURSE_DATABASE_URL", "DISBURSE_USER", "DISBURSE_PROFILES_DIR", "DISBURSE_OUTPUT_DIR")


def invoke(*args: str) -> Result:
    result = runner.invoke(app, list(args), prog_name="disburse")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no config file and no DISBURSE_* settings in the environment."""
    for variable in (*SETTINGS_ENV, config.CONFIG_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def shown() -> dict[str, Any]:
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_setting(document: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    return {item["setting"]: (item["value"], item["source"]) for item in document["settings"]}


def test_defaults_without_file_or_environment(clean: Path) -> None:
    document = shown()
    assert document["config_file"] is None
    settings = by_setting(document)
    assert settings["database_url"] == ("sqlite:///disburse.db", "default")
    assert settings["output_dir"] == ("out", "default")
    assert settings["profiles_dir"] == (None, "default")
    assert settings["user"][1] == "login name"


def test_the_file_is_read_and_the_environment_wins(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean / "profiles").mkdir()
    (clean / "disburse.toml").write_text(
        'database_url = "postgresql+psycopg://officer:s3cret@db.example/disburse"\n'
        'user = "nguyen.van.a"\n'
        'profiles_dir = "profiles"\n'
        'output_dir = "reports"\n',
        encoding="utf-8",
    )
    document = shown()
    source = str(clean / "disburse.toml")
    assert document["config_file"] == source
    settings = by_setting(document)
    assert settings["database_url"] == ("postgresql+psycopg://officer:***@db.example/disburse", source)
    assert settings["user"] == ("nguyen.van.a", source)
    assert settings["profiles_dir"] == (str(clean / "profiles"), source), "relative to the file's folder"
    assert settings["output_dir"] == ("reports", source)
    text = invoke("config", "show").stdout
    assert "s3cret" not in text and "nguyen.van.a" in text

    monkeypatch.setenv("DISBURSE_USER", "tran.thi.b")
    settings = by_setting(shown())
    assert settings["user"] == ("tran.thi.b", "environment DISBURSE_USER")
    assert settings["output_dir"] == ("reports", source)


def test_a_config_file_elsewhere_drives_the_ledger_and_the_reports(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = clean / "settings"
    folder.mkdir()
    ledger = clean / "so-ldtbxh.db"
    config_file = folder / "office.toml"
    config_file.write_text(
        f'database_url = "sqlite:///{ledger}"\nuser = "le.van.c"\noutput_dir = "{clean / "bao-cao"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(config.CONFIG_ENV, str(config_file))
    assert invoke("init").exit_code == 0
    assert ledger.is_file(), "init created the ledger the file names"
    data = clean / "data"
    pipeline.generate_fixtures(data, period="2026-10", rows=200, seed=4)
    assert invoke("import", "orders", str(data / "2026-10" / "orders.csv")).exit_code == 0
    assert invoke("reconcile", "--period", "2026-10").exit_code == 0
    assert (clean / "bao-cao" / "2026-10" / "exceptions.csv").is_file(), "output_dir/<period> by default"
    batches = pipeline.open_ledger().batches()
    assert batches["imported_by"].to_list() == ["le.van.c"]


def test_profiles_dir_of_the_file_adds_a_province(clean: Path) -> None:
    """A sixth province as a data file, found through profiles_dir of disburse.toml."""
    (clean / "extra").mkdir()
    hcm = Path(disburse.__file__).parent / "profiles" / "hcm.toml"
    sixth = hcm.read_text(encoding="utf-8")
    sixth = sixth.replace('dialect = "hcm"', 'dialect = "hanoi"').replace(
        'province_code = "79"', 'province_code = "01"'
    )
    sixth = "\n".join(line for line in sixth.splitlines() if not line.startswith("legacy_codes"))
    (clean / "extra" / "hanoi.toml").write_text(sixth, encoding="utf-8")
    (clean / "disburse.toml").write_text('profiles_dir = "extra"\n', encoding="utf-8")
    assert invoke("init").exit_code == 0
    status = json.loads(invoke("status", "--period", "2026-10", "--json").stdout)
    assert "01" in {row["province_code"] for row in status["provinces"]}
    assert "DISBURSE_PROFILES_DIR" not in os.environ, "the file's setting does not leak past the command"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            'database_url = "sqlite:///x.db"\ndatabse_url = 1\n',
            ("unknown setting 'databse_url'", "database_url"),
        ),
        ("database_url = sqlite:///x.db\n", ("not valid TOML",)),
        ('profiles_dir = "no-such-folder"\n', ("setting profiles_dir", "not an existing folder")),
        ("user = 42\n", ("setting user", "disburse.toml")),
        ('database_url = "  "\n', ("setting database_url", "must not be empty")),
    ],
)
def test_a_broken_config_file_is_named_with_the_fix(clean: Path, content: str, says: tuple[str, ...]) -> None:
    (clean / "disburse.toml").write_text(content, encoding="utf-8")
    result = invoke("config", "show")
    assert result.exit_code == 2
    message = result.stderr
    assert message.startswith("error: ") and "disburse.toml" in message
    for fragment in says:
        assert fragment in message, message


def test_a_config_file_named_but_missing(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.CONFIG_ENV, str(clean / "nowhere.toml"))
    result = invoke("init")
    assert result.exit_code == 2
    assert "nowhere.toml" in result.stderr and config.CONFIG_ENV in result.stderr
