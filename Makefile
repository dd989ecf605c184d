# Every target creates or reuses .venv and installs the project into it, so a fresh
# machine with nothing but Python 3.11+ needs no other step.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/riskmap demo --if-empty
	$(BIN)/streamlit run app.py

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check src tests bench app.py
	$(BIN)/ruff format --check src tests bench app.py

format: $(STAMP)
	$(BIN)/ruff format src tests bench app.py
	$(BIN)/ruff check --fix src tests bench app.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
