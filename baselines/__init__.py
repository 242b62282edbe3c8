"""Toy baselines with the recipe's sanity checks (torch; never imports streamlit)."""
