"""Market: the data source, the companies' adjusted close, one in detail, and the rows."""

import streamlit as st

from lstm_core import charts, data
from lstm_core.errors import DataError, RefreshError
from pages.shared import session
from pages.shared.formatting import plain

session.ensure_navigation()

st.title("Market")
message = st.session_state.pop("market_message", None)
if message is not None:
    kind, text = message
    (st.error if kind == "error" else st.success)(plain(text))
st.write(
    "Daily **adjusted close** prices: the closing price corrected for splits and dividends, "
    "so that a price years ago compares fairly with today's."
)

# The data source first: whatever the charts below make of a file, the upload box is there.
prices = session.price_data()
frame = prices.frame
st.subheader("Where the data comes from")
st.write(plain(prices.description))
refresh_column, upload_column = st.columns(2)
with refresh_column:
    if st.button(
        "Refresh from Yahoo Finance",
        help="Download the latest prices of the four companies. Needs an internet connection.",
    ):
        with st.spinner("Asking Yahoo Finance…"):
            try:
                refreshed = data.refresh_from_yahoo()
            except RefreshError as error:
                st.session_state["market_message"] = ("error", str(error))
            else:
                session.set_price_data(refreshed)
                st.session_state["market_message"] = ("success", refreshed.description)
        st.rerun()
with upload_column:
    uploaded = st.file_uploader(
        "Or use your own CSV",
        type=["csv", "txt"],
        help="A Yahoo Finance export (Date, Open, High, Low, Close, Adj Close, Volume) or a file "
        "with a Ticker column. Read in memory, never stored.",
        key="upload",
    )
    if uploaded is not None and st.session_state.get("uploaded_id") != uploaded.file_id:
        st.session_state["uploaded_id"] = uploaded.file_id
        try:
            loaded = data.read_price_csv(uploaded.getvalue(), name=uploaded.name)
        except DataError as error:
            st.session_state["market_message"] = ("error", str(error))
        else:
            session.set_price_data(loaded)
            st.session_state["market_message"] = ("success", loaded.description)
        st.rerun()
if prices.source != "snapshot" and st.button("Back to the bundled snapshot"):
    session.set_price_data(data.load_snapshot())
    st.session_state["market_message"] = ("success", "Back on the bundled snapshot.")
    st.rerun()

shared_axis = st.toggle(
    "Same price axis for every company",
    value=False,
    help="On: compare price levels across companies. Off: see each company's own ups and downs.",
)
shown_tickers = charts.facet_tickers(frame, order=data.TICKERS)[: charts.MAX_FACETS]
if len(prices.tickers()) > charts.MAX_FACETS:
    st.caption(
        f"The chart shows the first {charts.MAX_FACETS} of the {len(prices.tickers()):,} "
        "companies in the data; choose any of them in the detail below."
    )
st.plotly_chart(
    charts.facet_chart(
        frame[frame["Ticker"].isin(shown_tickers)],
        data.COMPANY_NAMES,
        shared_y=shared_axis,
        order=data.TICKERS,
    ),
    key="facets",
)

st.subheader("One company in detail")
ticker = session.ticker_select("market_ticker", label="Company")
series = prices.series(ticker)
period = st.radio(
    "Show",
    list(charts.DETAIL_PERIODS),
    index=len(charts.DETAIL_PERIODS) - 1,
    horizontal=True,
    key="market_period",
    help="The price axis fits the period shown, so three months are not a flat line.",
)
st.plotly_chart(
    charts.detail_chart(
        series,
        f"{data.COMPANY_NAMES.get(ticker, ticker)} ({ticker})",
        months=charts.DETAIL_PERIODS[period],
    ),
    key="detail",
)

st.subheader("Each company over the whole period")
st.dataframe(
    data.summary_table(prices),
    hide_index=True,
    column_config={
        "First price": st.column_config.NumberColumn(format="$%.2f"),
        "Last price": st.column_config.NumberColumn(format="$%.2f"),
        "Change (%)": st.column_config.NumberColumn(format="%+.1f%%"),
    },
)

st.subheader("The latest rows")
latest = frame[frame["Ticker"] == ticker].sort_values("Date", ascending=False).head(10)
st.dataframe(
    latest,
    hide_index=True,
    column_config={
        "Date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
        # Every price to the cent and volumes with thousands separators, row after row.
        **{
            column: st.column_config.NumberColumn(column, format="dollar")
            for column in ("Open", "High", "Low", "Close", "Adj Close")
        },
        "Volume": st.column_config.NumberColumn("Volume", format="localized"),
    },
)
with st.expander("What the columns mean"):
    st.markdown(
        "- **Date**: the trading day.\n"
        "- **Ticker**: the company's stock symbol.\n"
        "- **Open / High / Low / Close**: the first, highest, lowest and last price of the day.\n"
        "- **Adj Close**: the close corrected for later splits and dividends; the models use it.\n"
        "- **Volume**: how many shares changed hands that day."
    )
