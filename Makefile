# Every target creates the virtualenv first if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

ASL_VALIDATOR := .tools/node_modules/.bin/asl-validator

.PHONY: demo test browser lint format synth deploy clean reliability bench docs e2e conformance

$(BIN)/imgloop: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/imgloop
	$(BIN)/imgloop run --local --input tests/events/s1_example.json --out out --name demo-run --replace --fail-generate-first 2 --reject-first 4 --throttle-first 1

# An independent checker of the state machine definition, from the npm registry.
$(ASL_VALIDATOR):
	npm install --silent --no-save --no-audit --no-fund --prefix .tools asl-validator@4.0.0

# The report's browser test drives Debian's chromium through chromedriver. They are installed here when
# this user may (root, or sudo without a password); otherwise the suite does not start, and says why.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; \
	else \
		echo "make test: the report's browser test needs chromium and chromedriver, and they are missing." >&2; \
		echo "  Install them (Debian, Ubuntu: sudo apt-get install chromium chromium-driver) and run make test again," >&2; \
		echo "  or run the suite without that one test: $(BIN)/pytest -m 'not browser'" >&2; \
		exit 1; \
	fi; \
	echo "installing chromium and chromium-driver (apt-get) for the report's browser test ..."; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver

# Engines besides moto for `make conformance`: aws-local-stepfunctions (npm) and LocalStack's Step Functions
# engine (PyPI, in its own Python 3.13 virtualenv; cbor2 6 dropped a module localstack-core imports).
SFN_LOCAL := .tools/sfn-local/node_modules/aws-local-stepfunctions/package.json
# localstack-core needs Python 3.13: pyenv's, where there is one, else a python3.13 on the PATH.
LS_PYTHON ?= $(or $(shell pyenv prefix 3.13 2>/dev/null | head -1 | sed 's|$$|/bin/python3|'),\
	$(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3)),$(shell command -v python3.13))
LS_VENV := .tools/ls-venv

$(SFN_LOCAL):
	npm install --silent --no-save --no-audit --no-fund --prefix .tools/sfn-local aws-local-stepfunctions@3.0.0

$(LS_VENV)/bin/localstack-ready:
	@test -x "$(LS_PYTHON)" || { echo "make conformance: LocalStack's engine needs Python 3.13 (pyenv install 3.13, or LS_PYTHON=...)" >&2; exit 1; }
	$(LS_PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --quiet "localstack-core[runtime]==2026.3.0" "cbor2<6"
	touch $@

# The scenario suite on moto, aws-local-stepfunctions and LocalStack (tests/conformance); its last line is JSON.
conformance: $(BIN)/imgloop $(SFN_LOCAL) $(LS_VENV)/bin/localstack-ready
	$(BIN)/python -m tests.conformance

test: $(BIN)/imgloop $(ASL_VALIDATOR) browser
	$(BIN)/pytest

# Runs every fault case and rewrites docs/reliability.md; the tests only check that it is current.
reliability: $(BIN)/imgloop
	$(BIN)/python -m tests.faults.matrix

lint: $(BIN)/imgloop
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas infra statemachine imgloop bench app.py tests

# The documentation site (mkdocs.yml): docs/ built into site/. --strict turns every warning into a failure:
# a link to a missing page or anchor, a page left out of the nav.
$(VENV)/.docs-installed: requirements-docs.txt $(BIN)/imgloop
	$(BIN)/pip install --quiet -r requirements-docs.txt
	touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The benchmark (bench/; docs/performance.md says how long the last full run took): prints a table, rewrites
# docs/performance.md and prints the figures as one JSON object on its last line. BENCH_ARGS passes options:
# BENCH_ARGS=--quick is a short look that writes out/bench/performance.md instead; `python -m bench --help`.
bench: $(BIN)/imgloop
	$(BIN)/python -m bench $(BENCH_ARGS)

format: $(BIN)/imgloop
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: $(BIN)/imgloop
	$(BIN)/python -c "from imgloop.local.assembly import synthesize; print(synthesize())"

deploy: $(BIN)/imgloop
	$(BIN)/imgloop check-models
	. $(BIN)/activate && npx --yes aws-cdk@2 deploy

# A real deployment test on your AWS account, never run by CI or `make test`: it deploys a throwaway stack,
# runs a run, an edit, a batch and an API call on it (about a dollar at most, asked first) and deletes it.
# ARGS passes options: make e2e ARGS=--help explains it, ARGS="--yes --region us-east-1".
e2e: $(BIN)/imgloop
	$(BIN)/python -m tests.e2e $(ARGS)

clean:
	rm -rf $(VENV) .tools cdk.out out site .pytest_cache .mypy_cache .ruff_cache
