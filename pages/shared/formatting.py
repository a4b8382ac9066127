"""Metrics as the pages print them: dollars to cents, percents to one decimal, a dash if none.

Not a page.
"""

from __future__ import annotations

import re

import pandas as pd

NO_DIRECTION_HELP = (
    "A dash: 'tomorrow = today' never predicts a move up or down, so it has no direction score. "
    "Read direction scores against the share of up days in the test period instead: always "
    "saying 'up' scores exactly that."
)


def format_metric(name: str, value: float | None) -> str:
    """A metric as the result cards print it: dollars to cents, percents to one decimal.

    A missing value (persistence's direction score) is a dash.
    """
    if value is None or pd.isna(value):
        return "\N{EN DASH}"
    if name in {"rmse", "mae"}:
        return f"${value:,.2f}"
    if name == "direction_accuracy":
        return f"{value:.1f}%"
    if name == "mape":
        return f"{value:.2f}%"
    if name == "mase":
        return f"{value:.2f}"
    return f"{value:.4f}"


MARKDOWN_SPECIAL = re.compile(
    r"[\\`*\[\]<>#|~$&]"  # links, images, emphasis, code, HTML, tables, math
    r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # _emphasis_ (an underscore inside a word is none)
    r"|^[-+=]|(?<=^\d)\.|(?<=^\d\d)\."  # a list or a heading at the start
)
"""What Markdown or Streamlit's extensions (`:red[...]`, `$math$`) would read as formatting.
Escaped with a backslash, each shows as itself; ordinary punctuation (full stops, colons,
quotes, parentheses) is left as it is, so sentences read the same in the source."""


AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=www)(?=\.)|(?=@)")
"""Where GFM would turn plain text into a link by itself (https://..., www...., an e-mail
address). It matches the text after escapes are resolved, so a backslash cannot stop it; an
invisible WORD JOINER there does."""


WORD_JOINER = "\N{WORD JOINER}"


def plain(text: object) -> str:
    """`text` from outside the lab (a link, a file, a study name, the store) for st.write,
    st.warning, captions and every other call that renders Markdown: shown exactly (one line,
    an invisible joiner inside web and e-mail addresses), never as a link, emphasis or heading.
    """
    escaped = MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), " ".join(str(text).split()))
    return AUTOLINK.sub(WORD_JOINER, escaped)
