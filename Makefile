# Two entry points (README "Quick start"): `make run` and `make test`.
# Both create the virtual environment on first use; nothing else needs installing by hand.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test setup bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=..." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	@[ -n "$$GITHUB_WEBHOOK_SECRET" ] || \
	  echo "GITHUB_WEBHOOK_SECRET is not set: using a throw-away local secret (dry-run demo)."
	GITHUB_WEBHOOK_SECRET=$${GITHUB_WEBHOOK_SECRET:-local-dev-secret} $(BIN)/python -m bot serve

test: $(STAMP)
	$(BIN)/python scripts/ensure_test_services.py
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
