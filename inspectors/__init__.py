"""Image-dataset inspectors: pure Python over the samples table (no streamlit, no torch).

The registry of inspectors is `run.INSPECTORS`. This file imports nothing: scan workers import
`inspectors.pool` and must not pay for pandas and the inspectors they never use.
"""
