PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Packages the tests need beyond PyPI: PostgreSQL for the RDS variant's user store, Chromium for
# the dashboard page's browser test (Playwright drives /usr/bin/chromium; it downloads no browser).
SYSTEM_STAMP := $(VENV)/.system-packages
# checkov pins boto3 and friends below our pins, so it gets a venv of its own.
CHECKOV_STAMP := $(VENV)/checkov/.installed

.PHONY: run token test terraform-tools load capacity-test bench bench-soak report package clean

# Then the `loadgen` command (pyproject.toml); compat mode puts the repository on the venv's path.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	@touch $(STAMP)

# PORT=<port> (as DEVSTACK_PORT=<port>) picks the local stack's app port for run, token, load and capacity-test:
# `make run PORT=8123` started the stack on 8000 without a word.
ifdef PORT
export DEVSTACK_PORT := $(PORT)
endif
LOCAL_BASE_URL = $(if $(DEVSTACK_PORT),--base-url http://127.0.0.1:$(DEVSTACK_PORT))

# VARIANT=ecs: the container's command (gunicorn) against a local PostgreSQL instead of the in-process app.
VARIANT ?= lambda
run: $(STAMP) $(SYSTEM_STAMP)
	$(PY) -m devstack --variant $(VARIANT) $(RUN_ARGS)

# The operator token of the stack `make run` started (DEVSTACK_PORT=<port> for another port).
token: $(STAMP)
	@$(PY) -m devstack.token

$(SYSTEM_STAMP): $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	@touch $(SYSTEM_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	@test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet -r requirements-checkov.txt -c constraints-checkov.txt
	@touch $(CHECKOV_STAMP)

# Terraform and its AWS provider come from no registry this project may use (Debian ships neither):
# the machine provides them (terraform >= 1.9 on PATH, the provider in a filesystem mirror). The
# Terraform tests fail, never skip, without them; this says what is missing before the suite starts.
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
terraform-tools:
	@command -v terraform >/dev/null 2>&1 || \
		{ echo "missing: terraform >= 1.9 on PATH (the Terraform tests run the real binary)" >&2; exit 1; }
	@terraform version -json 2>/dev/null | $(PYTHON) -c 'import json,sys; v=tuple(map(int, json.load(sys.stdin)["terraform_version"].split(".")[:2])); sys.exit(0 if v >= (1, 9) else "missing: terraform >= 1.9 (found %d.%d)" % v)'
	@test -d $(TF_PLUGIN_MIRROR)/registry.terraform.io/hashicorp/aws || \
		{ echo "missing: the hashicorp/aws provider in a filesystem mirror at $(TF_PLUGIN_MIRROR) (set TF_PLUGIN_MIRROR)" >&2; exit 1; }

# The Lambda package is built first, so a broken `make package` fails the suite (tests check the package).
# Two workers: one runs the e2e stacks, which mostly wait on them, while the other runs unit tests.
TEST_WORKERS ?= 2
test: $(STAMP) $(SYSTEM_STAMP) $(CHECKOV_STAMP) terraform-tools
	$(PY) scripts/package_chalice.py
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Load against a running stack (make run): make load SCENARIO=users-list LOAD_ARGS="--clients 8 --duration 1m"
SCENARIO ?= crud-mix
LOAD_ARGS ?= --clients 8 --duration 30s --check --cleanup
load: $(STAMP)
	$(VENV)/bin/loadgen $(SCENARIO) $(LOCAL_BASE_URL) $(LOAD_ARGS)

# The saturation point of a running stack (make run), recorded for GET /sre/capacity:
# make capacity-test OPERATOR_TOKEN=<token> CAPACITY_ARGS="--ramp 5:5:60 --step-duration 5s"
CAPACITY_ARGS ?=
capacity-test: $(STAMP)
	$(PY) -m tools.capacity_test $(LOCAL_BASE_URL) $(CAPACITY_ARGS)

bench: $(STAMP)
	$(PY) -m bench

# Every benchmark, the reliability suite and the detection test in one run, then one table of
# their figures side by side (bench/_report.py); the README shows the latest.
report: $(STAMP) $(SYSTEM_STAMP)
	$(PY) -m bench._report

# One hour at a constant rate against a fresh local stack: make bench-soak SOAK_ARGS="--duration 5m"
bench-soak: $(STAMP)
	$(PY) -m bench._soak $(SOAK_ARGS)

# The Lambda package and the API document the Terraform stack deploys (build/lambda); prints the zip size.
package: $(STAMP)
	$(PY) scripts/package_chalice.py

clean:
	rm -rf $(VENV) .pytest_cache
