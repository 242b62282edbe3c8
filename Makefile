# make run: install everything and open the app on sample_data/shapes
# make test: install everything and run the whole test suite (what CI runs)
DATASET ?= sample_data/shapes
PORT ?= 8501

.PHONY: setup run test lint sample-data

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/python -m streamlit run app.py --server.port=$(PORT) -- $(DATASET)

test: setup
	.venv/bin/python -m ruff check .
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/python -m ruff check .

sample-data: setup
	.venv/bin/python sample_data/make_sample_data.py
