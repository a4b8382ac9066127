"""Sections of single pages, kept apart so that no page file runs long. Not a page.

Each module names the page it belongs to; app.py's st.navigation lists the pages themselves.
What several pages share lives in pages/shared/.
"""
