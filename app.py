"""The dashboard: python -m streamlit run app.py -- [DATASET] [--labels CSV]

The frame (sidebar, navigation, scan) is ui/frame.py; the pages are pages/*.py, listed in ui/pages.py.
"""

from ui import frame

# Streamlit runs this file as __main__. The scan's workers never import it (pool.worker_start hides it), but
# other spawned processes (the pair-distance measurement) import it as __mp_main__ and must not run the app.
if __name__ == "__main__":
    frame.main()
