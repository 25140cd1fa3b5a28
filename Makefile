# Every target bootstraps its own virtual environment from nothing (a fresh machine needs only Python >= 3.11).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test demo lint typecheck imports unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile --cov=xinyong.model --cov=xinyong.policy --cov-report=term-missing:skip-covered --cov-fail-under=90 --durations=15 tests

test: lint typecheck imports unit

demo: $(STAMP)
	$(BIN)/xinyong demo

bench: $(STAMP)
	$(BIN)/python bench/evaluate.py --records 10_000_000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
