"""Shared test settings: quiet TensorFlow logs and small deterministic series."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def synthetic_series() -> pd.Series:
    """A 300-day smooth price series with noise, on business days."""
    generator = np.random.default_rng(7)
    days = np.arange(300)
    values = 100 + 10 * np.sin(days / 15) + days * 0.05 + generator.normal(0, 0.5, size=300)
    index = pd.bdate_range("2020-01-01", periods=300)
    return pd.Series(values, index=index, name="SYN")


@pytest.fixture(autouse=True, scope="session")
def _isolated_run_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never write to the project's own runs/ folder."""
    os.environ["LSTM_LAB_STORE"] = str(tmp_path_factory.mktemp("store") / "runs.sqlite")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole session, stopped after (tests/postgres_server.py)."""
    from tests.postgres_server import MISSING, running_postgres, server_binaries

    if server_binaries() is None:
        pytest.fail(MISSING)
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty run store on each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite")
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, headless; never a browser Playwright downloads."""
    from pathlib import Path

    from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it with apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
