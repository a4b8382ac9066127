"""Text from outside the lab is shown as text: link values, file names and cells, study names.

The browser test (tests/test_browser_markdown.py) checks what a page draws; these check, with
AppTest, that every such value reaches Streamlit escaped, and the Market page's limits.
"""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from lstm_core import data
from lstm_core.data.prices import tidy_frame
from lstm_core.errors import DataError
from pages.shared.formatting import plain
from tests.test_app_pages import figure, new_app
from tests.test_bad_settings import DEFAULTS, form_values, train_page

EVIL = "[click me](https://evil.example/q)"
EVIL_SHOWN = "\\[click me\\](https:\N{WORD JOINER}//evil.example/q)"


def test_plain_escapes_what_markdown_would_read_and_keeps_sentences() -> None:
    assert plain(EVIL) == EVIL_SHOWN
    assert plain("**bold** _it_ `code` <b> # $x$ :red[x] a|b ~s~") == (
        "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\<b\\> \\# \\$x\\$ :red\\[x\\] a\\|b \\~s\\~"
    )
    assert plain("see www.evil.example or me@evil.example") == (
        "see www\N{WORD JOINER}.evil.example or me\N{WORD JOINER}@evil.example"
    )
    # A heading or list at the start, and a newline that would start a new line.
    assert plain("# one\n- two") == "\\# one - two"
    assert plain("1. first") == "1\\. first"
    # Ordinary sentences stay as they are.
    sentence = "The batch_size (64) is larger than 12: choose 8, 16 or 32."
    assert plain(sentence) == sentence


def price_frame(tickers: list[str], days: int = 30) -> data.PriceData:
    dates = pd.bdate_range("2021-01-04", periods=days)
    rows = [
        {"Date": day, "Ticker": ticker, "Close": 10.0 + index + step, "Adj Close": np.nan}
        for index, ticker in enumerate(tickers)
        for step, day in enumerate(dates)
    ]
    frame = pd.DataFrame(rows).assign(Open=np.nan, High=np.nan, Low=np.nan, Volume=np.nan)
    return data.PriceData(frame=tidy_frame(frame), source="upload", description="Yours")


def market_page(price_data: data.PriceData | None = None, message=None):
    at = new_app()
    if price_data is not None:
        at.session_state["price_data"] = price_data
    if message is not None:
        at.session_state["market_message"] = message
    at.switch_page("pages/market.py").run()
    assert not at.exception, [element.message for element in at.exception]
    return at


def test_a_file_name_and_its_cells_are_shown_as_text() -> None:
    name = f"{EVIL}.csv"
    loaded = data.read_price_csv(price_csv_text(30), name=name)
    at = market_page(loaded)
    shown = f"Your file {EVIL_SHOWN}.csv (30 rows)"
    assert f"Data: {shown}" in [caption.value for caption in at.sidebar.caption]
    assert shown in [element.value for element in at.markdown]
    bad = price_csv_text(30).replace("10.0\n", f"{EVIL}\n", 1)
    with pytest.raises(DataError) as raised:
        data.read_price_csv(bad, name="cells.csv")
    at = market_page(message=("error", str(raised.value)))
    assert at.error[0].value == plain(raised.value)
    assert "\\[click me\\]" in at.error[0].value


def price_csv_text(days: int, missing_row: int | None = None) -> str:
    dates = pd.bdate_range("2021-01-04", periods=days)
    lines = ["Date,Close"]
    for step, day in enumerate(dates):
        price = "" if step == missing_row else f"{10.0 + step}"
        lines.append(f"{day:%Y-%m-%d},{price}")
    return "\n".join(lines) + "\n"


def test_one_row_left_out_reads_one_row() -> None:
    loaded = data.read_price_csv(price_csv_text(30, missing_row=5), name="gap.csv")
    assert loaded.description == "Your file gap.csv (29 rows; 1 row without a price left out)"


def test_a_link_with_units_minus_8_is_refused_not_read_as_one_layer() -> None:
    at = train_page(units="-8")
    expected = (
        "The settings in this link could not be used (units must be layer sizes joined by "
        "'-', such as 64-32, got '-8'); showing the defaults."
    )
    assert [warning.value for warning in at.warning] == [expected]
    assert form_values(at) == DEFAULTS


def test_a_link_ticker_is_escaped_in_the_warning() -> None:
    at = train_page(ticker=EVIL)
    assert len(at.warning) == 1 and f"ticker '{EVIL_SHOWN}' is not a valid symbol" in (
        at.warning[0].value
    )


def test_a_study_name_is_shown_as_text(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    url = f"sqlite:///{tmp_path / 'named.sqlite'}"
    optuna.create_study(study_name=EVIL, storage=url)
    at = new_app()
    at.session_state["tune_study"] = (url, EVIL)
    at.switch_page("pages/tune.py").run()
    assert not at.exception, [element.message for element in at.exception]
    assert f"Study {EVIL_SHOWN}" in [header.value for header in at.header]


@pytest.mark.parametrize("count", [19, 45])
def test_market_lays_out_many_tickers_with_the_upload_box_first(count: int) -> None:
    tickers = [f"T{index:02d}" for index in range(count)]
    at = market_page(price_frame(tickers))
    shown = min(count, 40)
    assert len(figure(at, 0)["data"]) == shown
    captions = [caption.value for caption in at.caption]
    note = f"The chart shows the first 40 of the {count:,} companies in the data"
    assert any(note in caption for caption in captions) == (count > 40)
    # The data source and the upload box come before the first chart.
    headers = [header.value for header in at.subheader]
    assert headers[0] == "Where the data comes from"
    summary = at.dataframe[0].value
    assert list(summary["Ticker"]) == tickers


def test_the_summary_table_matches_a_per_ticker_reference() -> None:
    """Grouped once, the figures equal those of each ticker's own series (shuffled rows)."""
    prices = price_frame(["B", "A", "C"], days=12)
    shuffled = prices.frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled.loc[shuffled["Ticker"] == "A", "Adj Close"] = 99.0
    table = data.summary_table(data.PriceData(frame=shuffled, source="upload", description=""))
    assert list(table["Ticker"]) == list(dict.fromkeys(shuffled["Ticker"]))
    for row in table.itertuples(index=False):
        series = data.PriceData(frame=shuffled, source="upload", description="").series(row.Ticker)
        assert (row._2, row._3, row.Days) == (
            f"{series.index[0]:%Y-%m-%d}",
            f"{series.index[-1]:%Y-%m-%d}",
            len(series),
        )
        assert row._5 == series.iloc[0] and row._6 == series.iloc[-1]
    assert table.set_index("Ticker").loc["A", "First price"] == 99.0
