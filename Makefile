# chargestream — every command a newcomer, CI or ops needs. `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
SERVICES_DIR ?= .services
TEST_KAFKA_PORT ?= 19092
TEST_CASSANDRA_PORT ?= 19042
ARGS ?=

.PHONY: help run demo stack test unit lint system-deps services-up services-down \
	screenshots helm-check bench bench-gateway bench-pipeline bench-embedded clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# `make run` and `make demo` need only the CSMS and its dashboard (the `ui` extra);
# every other target installs everything (Kafka/Cassandra clients, test tools, plots).
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[ui]'
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[stack,ui,test,bench]'
	touch $(STAMP) $(RUN_STAMP)

# Debian packages the integration and browser tests need (installed only when missing).
system-deps:
	@missing=""; \
	  command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	  command -v mvn >/dev/null || missing="$$missing maven"; \
	  test -x /usr/bin/chromium || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi

run: $(RUN_STAMP)  ## start the embedded CSMS: OCPP on :9000, API on :8080 (Ctrl-C stops)
	$(BIN)/chargestream run $(ARGS)

# The simulator dials CHARGESTREAM_OCPP_HOST/PORT like `run` listens; 0.05 faults per station
# per minute is about one Faulted connector a minute across the 20 stations; the stations
# first send DEMO_BACKFILL_DAYS of past sessions and statuses, so every page has history.
DEMO_FAULT_RATE ?= 0.05
DEMO_BACKFILL_DAYS ?= 3

demo: $(RUN_STAMP)  ## the embedded CSMS, preset alert rules, 20 simulated charge points (30 % OCPP 2.0.1) that fault now and then
	CHARGESTREAM_ACCEPT_UNKNOWN_ID_TAGS=true $(BIN)/chargestream run & \
	  csms=$$!; trap 'kill $$csms 2>/dev/null; wait $$csms' EXIT INT TERM; \
	  $(BIN)/chargestream demo-rules && \
	  $(BIN)/chargestream simulate --stations 20 --protocol mix:30 --meter-interval 5 \
	    --fault-rate $(DEMO_FAULT_RATE) --backfill-days $(DEMO_BACKFILL_DAYS)

test: $(STAMP) system-deps lint  ## the whole suite: lint, unit, and integration tests against real Kafka + Cassandra
	$(BIN)/python helm/check.py
	$(BIN)/chargestream services up --dir $(SERVICES_DIR)-test \
	  --kafka-port $(TEST_KAFKA_PORT) --cassandra-port $(TEST_CASSANDRA_PORT)
	CHARGESTREAM_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$(TEST_KAFKA_PORT) \
	CHARGESTREAM_TEST_CASSANDRA=127.0.0.1:$(TEST_CASSANDRA_PORT) \
	  $(BIN)/pytest -q $(ARGS); status=$$?; \
	  $(BIN)/chargestream services down --dir $(SERVICES_DIR)-test; exit $$status

stack: $(STAMP) system-deps  ## Kafka + Cassandra + gateway + Faust worker + API + UI (Ctrl-C stops)
	$(BIN)/chargestream stack $(ARGS)

screenshots: $(STAMP) system-deps  ## refresh docs/screenshots from a real browser session
	CHARGESTREAM_SCREENSHOTS=1 $(BIN)/pytest -q tests/system/ui/test_browser.py

unit: $(STAMP)  ## the fast layer: unit tests without sockets or subprocesses (< 60 s)
	$(BIN)/pytest -q tests/unit $(ARGS)

lint: $(STAMP)  ## ruff lint and format check, the layer contracts, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

services-up: $(STAMP)  ## start local Kafka (9092) and Cassandra (9042)
	$(BIN)/chargestream services up --dir $(SERVICES_DIR)

services-down: $(STAMP)  ## stop them
	$(BIN)/chargestream services down --dir $(SERVICES_DIR)

helm-check: $(STAMP)  ## lint the Helm chart, render it (default, dev, prod), validate for Kubernetes 1.33
	$(BIN)/python helm/check.py

bench: $(STAMP) system-deps  ## scale study, then faults under load: ~30 min; ARGS=--full: ~3 h
	$(BIN)/python -m benchmarks.study $(ARGS)
	$(BIN)/python -m benchmarks.faults $(ARGS)

bench-gateway: $(STAMP)  ## gateway throughput and latency with 1,000 and 5,000 charge points
	$(BIN)/python -m benchmarks.gateway $(ARGS)

bench-pipeline: $(STAMP) system-deps  ## gateway -> Kafka -> Faust -> Cassandra at 10,000 charge points
	$(BIN)/python -m benchmarks.pipeline $(ARGS)

bench-embedded: $(STAMP)  ## `chargestream run` (embedded mode) under 10,000 simulated charge points
	$(BIN)/python -m benchmarks.embedded_fleet $(ARGS)

fuzz: $(STAMP)  ## fuzz the gateway (1,000,000 frames) and the API, fresh seeds; ARGS=--seed N --replay w3:17
	$(BIN)/python -m benchmarks.fuzz $(ARGS); status=$$?; \
	  CHARGESTREAM_FUZZ_SEED=random CHARGESTREAM_FUZZ_API_EXAMPLES=300 \
	  $(BIN)/pytest -q -p no:cacheprovider tests/integration/fuzz/test_api_fuzz.py || status=1; \
	  exit $$status

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data .pytest_cache .ruff_cache
