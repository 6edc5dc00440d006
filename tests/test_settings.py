"""Configuration from the environment: defaults, validation, secrets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vin_mcp.errors import ConfigurationError
from vin_mcp.settings import Settings

KEY = "sec_do_not_print_me_123"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.api_key is None and settings.region == "au" and settings.timeout == 10.0
    assert settings.base_url_for("au") == "https://api.autograb.com.au"
    assert settings.base_url_for("nz") == "https://api.autograb.com.au"
    assert settings.base_url_for("uk") == "https://api.autograb.co.uk"


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "AUTOGRAB_API_KEY": KEY,
            "AUTOGRAB_REGION": " UK ",
            "AUTOGRAB_BASE_URL": "http://127.0.0.1:9/",
            "AUTOGRAB_TIMEOUT": "3.5",
            "AUTOGRAB_REFERENCE_ID": "desk-1",
            "VIN_MCP_CACHE_TTL": "0",
        }
    )
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    assert settings.region == "uk" and settings.timeout == 3.5 and settings.reference_id == "desk-1"
    assert settings.base_url_for("au") == "http://127.0.0.1:9"
    assert settings.cache_ttl == 0


@pytest.mark.parametrize("blank", ["", "   ", "${user_config.api_key}"])
def test_blank_and_unfilled_values_are_unset(blank: str) -> None:
    settings = Settings.from_env({"AUTOGRAB_API_KEY": blank, "AUTOGRAB_REGION": blank, "AUTOGRAB_TIMEOUT": blank})
    assert settings.api_key is None and settings.region == "au" and settings.timeout == 10.0


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("AUTOGRAB_REGION", "us", "use one of au, nz, uk"),
        ("AUTOGRAB_TIMEOUT", "ten", "AUTOGRAB_TIMEOUT is 'ten'"),
        ("AUTOGRAB_TIMEOUT", "0", "from 0.1 to 120"),
        ("AUTOGRAB_TIMEOUT", "nan", "AUTOGRAB_TIMEOUT"),
        ("AUTOGRAB_BASE_URL", "api.autograb.com.au", "must start with https://"),
        ("VIN_MCP_CACHE_TTL", "-1", "VIN_MCP_CACHE_TTL"),
        ("VIN_MCP_LOG_LEVEL", "loud", "VIN_MCP_LOG_LEVEL is 'LOUD'; use one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_bad_values_are_clear_errors(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: value, "AUTOGRAB_API_KEY": KEY})
    assert fragment in str(caught.value)
    assert KEY not in str(caught.value)


def test_key_never_in_repr() -> None:
    settings = Settings.from_env({"AUTOGRAB_API_KEY": KEY})
    assert KEY not in repr(settings) and KEY not in str(settings)
    assert KEY not in settings.model_dump_json()


def test_bad_setting_stops_the_command_line_with_one_line_on_stderr() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", "WVWZZZ6RZAU020000"],
        env={"AUTOGRAB_REGION": "mars", "AUTOGRAB_API_KEY": KEY, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip() == (
        "vin-mcp: AUTOGRAB_REGION is 'mars'; use one of au, nz, uk. "
        "Fix the environment variable named above and run the command again."
    )


def test_only_the_documented_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field's bare name is never read from the environment (PATH is not the HTTP path, PORT not the port)."""
    from vin_mcp.mcp_server.http_settings import HttpSettings

    for name in ("PATH", "HOST", "PORT", "TOKEN", "REGION", "TIMEOUT", "API_KEY", "TRANSPORT"):
        monkeypatch.setenv(name, "bogus")
    assert HttpSettings.from_env().path == "/mcp" and HttpSettings.from_env().port == 8000
    settings = Settings.from_env()
    assert settings.region == "au" and settings.timeout == 10.0 and settings.api_key is None
    monkeypatch.setenv("VIN_MCP_HTTP_PORT", "9001")
    monkeypatch.setenv("AUTOGRAB_REGION", "NZ")
    assert HttpSettings.from_env().port == 9001 and Settings.from_env().region == "nz"


def test_help_lists_every_variable_from_the_fields(capsys: pytest.CaptureFixture[str]) -> None:
    from vin_mcp.cli.main import main
    from vin_mcp.mcp_server.http_settings import HttpSettings

    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for name, _ in [*Settings.variables(), *HttpSettings.variables()]:
        assert name in help_text
    assert len(Settings.variables()) == len(Settings.model_fields) == 14


def test_a_short_token_is_refused_without_echoing_it() -> None:
    from vin_mcp.mcp_server.http_settings import HttpSettings

    with pytest.raises(ConfigurationError) as caught:
        HttpSettings.from_env({"VIN_MCP_HTTP_TOKEN": "tiny-secret"})
    assert "shorter than 16" in str(caught.value) and "tiny-secret" not in str(caught.value)
