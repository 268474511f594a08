# Every target creates the virtualenv first if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

ASL_VALIDATOR := .tools/node_modules/.bin/asl-validator

.PHONY: demo test browser lint format synth deploy clean reliability bench

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

test: $(BIN)/imgloop $(ASL_VALIDATOR) browser
	$(BIN)/pytest

# Runs every fault case and rewrites docs/reliability.md; the tests only check that it is current.
reliability: $(BIN)/imgloop
	$(BIN)/python -m tests.faults.matrix

lint: $(BIN)/imgloop
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas infra statemachine imgloop bench app.py tests

# The benchmark (bench/, about 12 minutes on 2 cores): prints a table, rewrites docs/performance.md and prints
# the figures as one JSON object on its last line. BENCH_ARGS passes options, e.g. BENCH_ARGS=--quick.
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

clean:
	rm -rf $(VENV) .tools cdk.out out .pytest_cache .mypy_cache .ruff_cache
