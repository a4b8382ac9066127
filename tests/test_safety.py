"""What a hostile page visitor, link, file or saved model could try, and that each is refused."""

from __future__ import annotations

import ast
import builtins
import copy
import io
import os
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_core import data
from lstm_core.config import TrainConfig, normalize_ticker
from lstm_core.errors import RefreshError

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]

RAW_HTML_CALLS = {"html"}  # st.html and components.html render their argument as HTML
MARKDOWN_CALLS = {"markdown", "write", "caption", "title", "header", "subheader", "html"}


def _call_name(node: ast.Call) -> str:
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    if isinstance(function, ast.Name):
        return function.id
    return ""


def _is_constant_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def raw_html_problems(source: str, filename: str = "<source>") -> list[str]:
    """Calls that render HTML built from anything but constant strings, as 'file:line'."""
    problems = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Call):
            continue
        # Unpacked keywords (**options) could carry unsafe_allow_html=True unseen.
        unpacked = _call_name(node) in MARKDOWN_CALLS and any(
            keyword.arg is None for keyword in node.keywords
        )
        unsafe = [
            keyword
            for keyword in node.keywords
            if keyword.arg == "unsafe_allow_html"
            and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
        ]
        if not unsafe and not unpacked and _call_name(node) not in RAW_HTML_CALLS:
            continue
        passed = [*node.args, *(k.value for k in node.keywords if k.arg in {"body", "html"})]
        if unpacked or not all(_is_constant_text(argument) for argument in passed):
            problems.append(f"{filename}:{node.lineno}")
    return problems


def test_the_html_check_catches_html_built_from_values() -> None:
    """The checker itself: it must flag what the next test forbids, and pass what it allows."""
    bad = (
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\n"
        "st.markdown('<b>' + name + '</b>', unsafe_allow_html=True)\n"
        "st.write(name, unsafe_allow_html=flag)\n"
        "st.html(user_text)\n"
        "components.html(body=page)\n"
        "st.markdown(**options)\n"
    )
    assert raw_html_problems(bad) == [f"<source>:{line}" for line in range(1, 7)]
    good = (
        "st.markdown('<br>', unsafe_allow_html=True)\n"
        "st.markdown(text)\n"
        "st.markdown(text, unsafe_allow_html=False)\n"
        "st.html('<hr>')\n"
    )
    assert raw_html_problems(good) == []


def test_pages_render_raw_html_only_from_constant_strings() -> None:
    assert len(UI_FILES) >= 5, UI_FILES
    problems = []
    for path in UI_FILES:
        problems += raw_html_problems(path.read_text(), str(path.relative_to(ROOT)))
    assert problems == []


def test_server_keeps_xsrf_protection_and_a_small_upload_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True
    assert 0 < server["maxUploadSize"] <= 50
    # The reader's own limit is the same, so a file Streamlit lets through is never refused
    # later as too big, and the reader never accepts more than Streamlit would.
    assert server["maxUploadSize"] * 1024 * 1024 == data.MAX_UPLOAD_BYTES


BAD_TICKERS = [
    "../x",
    "a/b",
    "a\\b",
    "..",
    "MSFT;rm",
    "MSFT; rm -rf /",
    "' OR 1=1",
    "x'); DROP TABLE runs; --",
    "$(id)",
    "`id`",
    "MS FT",
    "MSFT\nAAPL",
    "MSFT\x00",
    "",
    "   ",
    "A" * 20,
    "A" * 16,
    "~root",
    "%2e%2e",
]


@pytest.mark.parametrize("ticker", BAD_TICKERS)
def test_path_and_injection_like_tickers_are_refused(ticker: str) -> None:
    with pytest.raises(ValueError, match="not a valid symbol"):
        normalize_ticker(ticker)
    with pytest.raises(ValueError):
        TrainConfig(ticker=ticker)


def test_real_tickers_are_accepted() -> None:
    """The control: the check is not simply refusing everything."""
    assert [normalize_ticker(t) for t in ("msft", " BRK-B ", "^GSPC", "EURUSD=X", "A" * 15)] == [
        "MSFT",
        "BRK-B",
        "^GSPC",
        "EURUSD=X",
        "A" * 15,
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_accepted_ticker_names_a_file_inside_the_cache_folder(text: str) -> None:
    try:
        ticker = normalize_ticker(text)
    except ValueError:
        return
    assert 1 <= len(ticker) <= 15
    assert "/" not in ticker and "\\" not in ticker and ".." not in ticker
    folder = Path("/cache")
    path = data.cache_path([ticker], folder)
    assert path.parent == folder and path.name == f"yahoo_{ticker}.csv"


def test_a_refresh_with_good_tickers_does_call_the_download(tmp_path) -> None:
    """The control for tests/test_data.py's refusal: valid tickers do reach the download."""
    calls = []

    def fake_download(symbols, **kwargs):
        calls.append(list(symbols))
        raise ConnectionError("offline")

    with pytest.raises(RefreshError):
        data.refresh_from_yahoo(tickers=["msft"], cache_dir=tmp_path, download=fake_download)
    assert calls == [["MSFT"]]


SQL = "x'); DROP TABLE runs; --"


@pytest.fixture(scope="module")
def tiny_run():
    from lstm_core.model.pipeline import run_training

    generator = np.random.default_rng(11)
    values = 40 + np.cumsum(generator.normal(0, 0.4, 200))
    series = pd.Series(values, index=pd.bdate_range("2022-01-03", periods=200), name="SYN")
    config = TrainConfig(ticker="SYN", lag=10, batch_size=32, epochs=1, units=(8,), dense_units=0)
    return run_training(config, series)


def _tables(location: str) -> list[str]:
    import sqlalchemy

    from lstm_core.experiments.store_database import store_url

    with sqlalchemy.create_engine(store_url(location)).connect() as connection:
        return sorted(sqlalchemy.inspect(connection).get_table_names())


def test_sql_in_a_group_or_owner_is_stored_as_text(store_location, tiny_run) -> None:
    from lstm_core.experiments.store import RunStore

    store = RunStore(store_location)
    first = store.save(tiny_run, owner="local", group=SQL)
    second = store.save(tiny_run, owner="' OR '1'='1", group="'; DELETE FROM runs; --")
    # The store's own tables, all still there: nothing was dropped or made by the text.
    assert _tables(store_location) == ["backtests", "open_trainings", "runs"]
    table = RunStore(store_location).table()
    assert table["id"].tolist() == [second, first]
    assert table["group"].tolist() == ["'; DELETE FROM runs; --", SQL]
    # An owner that is SQL matches only itself, not every row.
    assert RunStore(store_location).table(owner="' OR '1'='1")["id"].tolist() == [second]
    assert RunStore(store_location).table(owner="nobody' OR '1'='1").empty
    assert RunStore(store_location).delete([first, second], owner="nobody' OR '1'='1") == 0
    assert RunStore(store_location).load(first).config == tiny_run.config


MARKER_VARIABLE = "LSTM_LAB_TEST_MARKER"


def _lambda_model():
    """A model whose Lambda layer creates the file named by $LSTM_LAB_TEST_MARKER when called.

    Keras stores the lambda's code but not its default arguments, so the path comes from the
    environment at the moment the code runs.
    """
    import keras

    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Lambda(
        # The name is spelled out: a loaded lambda does not see this module's globals.
        lambda x: (open(__import__("os").environ["LSTM_LAB_TEST_MARKER"], "w").close(), x)[1],
        output_shape=(4,),
    )(inputs)
    return keras.Model(inputs, outputs)


def test_a_model_with_stored_code_is_refused_and_its_code_never_runs(
    tmp_path, tiny_run, monkeypatch
) -> None:
    import keras

    from lstm_core.experiments.store import RunStore
    from lstm_core.model.network import model_from_bytes, model_to_bytes

    marker = tmp_path / "code_ran"
    monkeypatch.setenv(MARKER_VARIABLE, str(marker))
    content = model_to_bytes(_lambda_model())
    assert not marker.exists()

    with pytest.raises(ValueError, match="safe_mode"):
        model_from_bytes(content)
    assert not marker.exists()

    # The same archive through the run store, as the Compare page loads a saved model.
    store = RunStore(tmp_path / "runs.sqlite")
    hostile = copy.copy(tiny_run)
    hostile.model_bytes = content
    run_id = store.save(hostile)
    with pytest.raises(ValueError, match="safe_mode"):
        store.load_model(run_id)
    assert not marker.exists()

    # The control: the archive is valid, and without safe mode its code does run.
    archive = tmp_path / "hostile.keras"
    archive.write_bytes(content)
    unsafe = keras.models.load_model(archive, safe_mode=False, compile=False)
    unsafe(np.zeros((1, 4), dtype="float32"))
    assert marker.exists()


def test_a_plain_model_still_loads_in_safe_mode(tiny_run) -> None:
    """The control for the refusal above: safe mode does not refuse the app's own models."""
    from lstm_core.model.network import model_from_bytes, model_to_bytes

    loaded = model_from_bytes(model_to_bytes(tiny_run.model))
    x = tiny_run.prepared.x_test
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), tiny_run.model.predict(x, verbose=0), rtol=1e-6
    )


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")} if folder.exists() else set()


def test_reading_an_uploaded_file_writes_nothing(tmp_path, monkeypatch) -> None:
    rows = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for day, date in enumerate(pd.bdate_range("2021-01-04", periods=120)):
        price = 100 + day * 0.5
        rows.append(f"{date:%Y-%m-%d},{price},{price + 1},{price - 1},{price},{price},1000")
    upload = ("\n".join(rows) + "\n").encode()

    writes: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            writes.append(f"open({file!r}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    def recording_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND):
            writes.append(f"os.open({path!r})")
        return real_os_open(path, flags, *args, **kwargs)

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    watched = [ROOT / "data", work, Path(tempfile.gettempdir())]
    before = {folder: _files(folder) for folder in watched}
    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(os, "open", recording_os_open)

    loaded = data.read_price_csv(upload, name="../../etc/passwd.csv")
    loaded_text = data.read_price_csv(upload.decode(), name="prices.csv")

    monkeypatch.undo()
    assert writes == []
    for folder in watched:
        assert _files(folder) - before[folder] == set(), folder
    assert len(loaded.frame) == len(loaded_text.frame) == 120
    assert loaded.tickers() == ["CUSTOM"]
    # The file name is shown, never used as a path.
    assert "passwd" in loaded.description and not (work / "etc").exists()
