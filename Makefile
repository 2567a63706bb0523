# Two commands for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run serve mail-sink webhook-receiver test mutants lint format schema bench-scope bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed  ## install, then serve the API with the Lào Cai pilot demo data
	$(BIN)/paht demo

serve: $(BIN)/.installed
	$(BIN)/paht serve

mail-sink: $(BIN)/.installed  ## a local SMTP server on 127.0.0.1:1025 that prints what PAHT sends
	$(BIN)/python tools/mail_sink.py

webhook-receiver: $(BIN)/.installed  ## print and verify webhook deliveries: make webhook-receiver SECRET=whsec_…
	$(BIN)/python tools/webhook_receiver.py --secret "$(SECRET)"

test: $(BIN)/.installed  ## install, then lint, check the layers and the types and the schema contract, run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/paht schema --check
	$(BIN)/pytest -q -p no:cacheprovider

mutants: $(BIN)/.installed  ## curated mutation testing (tools/mutations.py); not part of `test`
	$(BIN)/python tools/mutants.py

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(BIN)/.installed  ## regenerate graphql/schema.graphql
	$(BIN)/paht schema

bench-scope: $(BIN)/.installed
	$(BIN)/python -m bench.bench_scope

# The interleaved matrix against the PostGraphile peer (both servers up, see bench/README.md;
# PAHT served by `paht serve --workers 2`, job pass off), then the table into bench/README.md.
# LABEL=200k- PEER_DB=peer_200k PAHT_DB=paht_200k make bench: another dataset, its own table.
bench: $(BIN)/.installed  ## interleaved PAHT vs peer matrix; table into bench/README.md
	PY=$(BIN)/python bash bench/run_side_by_side.sh
	$(BIN)/python bench/results_table.py --readme --label-prefix "$${LABEL}round"

clean:
	rm -rf $(VENV) .paht/test mutants
