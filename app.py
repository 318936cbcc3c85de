"""The explorer's router: page setup, presentation mode, navigation, and the one friendly sentence
every page shows when the database cannot be reached."""
from pathlib import Path

import streamlit as st

from app_pages import cached, widgets
from kb.errors import DatabaseUnavailable, ReadTimedOut

presentation = widgets.presentation_mode()
t = widgets.t
# Playing a story (only the Story page takes ?story=), the window is the story's: no navigation, no toggle.
playing_story = bool(st.query_params.get("story"))
st.set_page_config(page_title=t("app_title"), layout="wide",
                   initial_sidebar_state="collapsed" if presentation or playing_story else "auto")
# No page icons: Streamlit fetches a material icon used as favicon from another host.
explore = st.Page("app_pages/explore.py", title=t("page_explore"), default=True)
page = st.navigation([explore] + [st.Page(f"app_pages/{name}.py", title=t(f"page_{name}"))
                                  for name in ("entity", "paths", "changes", "cypher", "overview", "analysis", "map",
                                               "story", "review")],
                     position="hidden" if playing_story else "top" if presentation else "sidebar")
# Explore in presentation mode folds the switches into its one panel, with its search and controls.
widgets.app_switches(graph_first=presentation and page.url_path == explore.url_path, hidden=playing_story)
# Streamlit serves the folder "static" beside this script (.streamlit/config.toml); the drawings load
# vis-network from there.
cached.vis_library_in(str(Path(__file__).parent / "static"))
try:
    cached.driver()
    page.run()
except (DatabaseUnavailable, ReadTimedOut) as error:
    # Not cached: the next rerun asks the database again, so it works as soon as it is back.
    st.error(str(error))
