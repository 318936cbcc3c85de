"""The explorer's router: page setup, presentation mode, navigation, and the one friendly sentence
every page shows when the database cannot be reached."""
from pathlib import Path

import streamlit as st

from app_pages import cached, widgets
from kb.errors import DatabaseUnavailable, ReadTimedOut

presentation = widgets.presentation_mode()
# Playing a story (only the Story page takes ?story=), the window is the story's: no navigation, no toggle.
playing_story = bool(st.query_params.get("story"))
st.set_page_config(page_title="Sino-German ties", layout="wide",
                   initial_sidebar_state="collapsed" if presentation or playing_story else "auto")
# No page icons: Streamlit fetches a material icon used as favicon from another host.
page = st.navigation([
    st.Page("app_pages/explore.py", title="Explore", default=True),
    st.Page("app_pages/entity.py", title="Entity"),
    st.Page("app_pages/paths.py", title="Paths"),
    st.Page("app_pages/changes.py", title="Changes"),
    st.Page("app_pages/cypher.py", title="Cypher"),
    st.Page("app_pages/overview.py", title="Overview"),
    st.Page("app_pages/analysis.py", title="Analysis"),
    st.Page("app_pages/map.py", title="Map", url_path="map"),
    st.Page("app_pages/story.py", title="Story"),
    st.Page("app_pages/review.py", title="Review"),
], position="hidden" if playing_story else "top" if presentation else "sidebar")
if not playing_story:
    widgets.presentation_toggle()
# Streamlit serves the folder "static" beside this script (.streamlit/config.toml); the drawings load
# vis-network from there.
cached.vis_library_in(str(Path(__file__).parent / "static"))
try:
    cached.driver()
    page.run()
except (DatabaseUnavailable, ReadTimedOut) as error:
    # Not cached: the next rerun asks the database again, so it works as soon as it is back.
    st.error(str(error))
