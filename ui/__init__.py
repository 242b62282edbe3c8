"""Shared Streamlit widgets and state: pages lay out what inspectors/ and baselines/ computed."""
