"""What several pages share. Not a page: app.py's st.navigation lists the pages.

- `session`: the session's keys, the price data, the chosen ticker, the job and its results.
- `saving`: the run store this session saves to and reads from, and whose runs it sees.
- `jobs`: starting a training job, its live progress, and collecting what it produced.
- `sidebar`: the sidebar every page shows (data source, cluster, store problems, training).
- `startup`: what app.py sets up once per run (Keras state, logging, the warm-up).
- `formatting`: metrics as the pages print them.

It lives under pages/ because only app.py and pages/ may import Streamlit.
"""
