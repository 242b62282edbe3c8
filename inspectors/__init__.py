"""Image-dataset inspectors: pure Python over the samples table (no streamlit, no torch)."""
