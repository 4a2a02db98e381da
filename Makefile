PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Server packages the tests need beyond PyPI: PostgreSQL for the RDS variant's user store.
SYSTEM_STAMP := $(VENV)/.system-packages
# checkov pins boto3 and friends below our pins, so it gets a venv of its own.
CHECKOV_STAMP := $(VENV)/checkov/.installed

.PHONY: run test bench package clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack $(RUN_ARGS)

$(SYSTEM_STAMP): $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	@touch $(SYSTEM_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	@test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet -r requirements-checkov.txt -c constraints-checkov.txt
	@touch $(CHECKOV_STAMP)

# The Lambda package is built first, so a broken `make package` fails the suite (tests check the package).
test: $(STAMP) $(SYSTEM_STAMP) $(CHECKOV_STAMP)
	$(PY) scripts/package_chalice.py
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

# The Lambda package and the API document the Terraform stack deploys (build/lambda); prints the zip size.
package: $(STAMP)
	$(PY) scripts/package_chalice.py

clean:
	rm -rf $(VENV) .pytest_cache
