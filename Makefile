# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := var/demo
PERSONS ?= 30000

.PHONY: demo test test-fast test-spark bench clean install install-spark lock lint

# Installs exactly what requirements.lock pins (hashes checked), then the project itself
# without touching its dependencies. `make lock` moves the pins, deliberately.
$(BIN)/renkou: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24'
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

lock:
	$(PYTHON) -m pip install --quiet 'uv>=0.5'
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 --upgrade -o requirements.lock
	echo 'pyspark>=3.5,<5' | $(PYTHON) -m uv pip compile - -c requirements.lock \
		--generate-hashes --python-version 3.11 --upgrade -o requirements-spark.lock

# The Spark backend ([linkage] backend = "spark", docs/scale.md): pyspark as pinned in
# requirements-spark.lock (the `spark` extra; keep the two in step). Needs Java 17.
install-spark: $(BIN)/renkou
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-spark.lock

install: $(BIN)/renkou

# The demo's keys live outside its home, owner-only (docs/security.md): the database is
# encrypted at rest, the audit chain keyed, the 协查 files packaged as AES zips.
KEYS := $(abspath $(DEMO))/keys
demo: export RENKOU_DB_KEY_FILE := $(KEYS)/db.key
demo: export RENKOU_AUDIT_KEY_FILE := $(KEYS)/audit.key
demo: export RENKOU_EXCHANGE_KEY_FILE := $(KEYS)/exchange.key
demo: $(BIN)/renkou
	rm -rf $(DEMO)
	mkdir -p -m 700 $(KEYS)
	for k in db audit exchange; do (umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $(KEYS)/$$k.key); done
	$(BIN)/renkou --home $(DEMO)/home generate --persons $(PERSONS) --seed 2026 --out $(DEMO)/county --layouts messy
	$(BIN)/renkou --home $(DEMO)/home run --inbox $(DEMO)/county/inbox
	$(BIN)/renkou --home $(DEMO)/home export links --out $(DEMO)/out/links.csv
	$(BIN)/renkou --home $(DEMO)/home export findings --out $(DEMO)/out/findings.csv
	$(BIN)/renkou --home $(DEMO)/home evaluate --truth $(DEMO)/county/truth
	$(BIN)/renkou --home $(DEMO)/home quarantine export --out $(DEMO)/out/returns_to_departments
	$(BIN)/renkou --home $(DEMO)/home quarantine status
	@echo "--- the townships answer their task lists (demo: answers drawn from the truth) ---"
	$(BIN)/python scripts/demo_township_returns.py $(DEMO)/home $(DEMO)/county/truth $(DEMO)/returns
	$(BIN)/renkou --home $(DEMO)/home tasks import $(DEMO)/returns/*.xlsx > $(DEMO)/out/import_report.txt
	$(BIN)/renkou --home $(DEMO)/home tasks changes --out $(DEMO)/out/change_list.xlsx
	$(BIN)/renkou --home $(DEMO)/home tasks status | head -5
	$(BIN)/renkou --home $(DEMO)/home exchange export --out $(DEMO)/out/exchange
	$(BIN)/renkou --home $(DEMO)/home bulletin --out $(DEMO)/out/bulletin
	$(BIN)/renkou --home $(DEMO)/home operators list
	$(BIN)/renkou --home $(DEMO)/home audit verify
	@echo
	@echo "Demo county:   $(DEMO)/county  (inbox/ = departmental exports as offices write them, truth/ = what really happened)"
	@echo "Returns:       $(DEMO)/out/returns_to_departments/ (rows to fix, one workbook per delivery)"
	@echo "Database:      $(DEMO)/home/renkou.duckdb"
	@echo "Exports:       $(DEMO)/out/links.csv, $(DEMO)/out/findings.csv"
	@echo "Evaluation:    $(DEMO)/home/evaluation.json"
	@echo "Task lists:    $(DEMO)/home/outbox/<run>/   Report: $(DEMO)/home/reports/latest.html"
	@echo "Answers:       $(DEMO)/returns/ (the townships'; import report $(DEMO)/out/import_report.txt)"
	@echo "Change list:   $(DEMO)/out/change_list.xlsx"
	@echo "协查 queries:  $(DEMO)/out/exchange/ (one file per county registered in)"
	@echo "Bulletin:      $(DEMO)/out/bulletin/ (通报: townships ranked against the targets)"
	@echo "Audit log:     $(DEMO)/home/audit/audit.jsonl (keyed; renkou audit show)"
	@echo "Keys:          $(KEYS)/ (outside the home; export RENKOU_DB_KEY_FILE=$(KEYS)/db.key to open the database)"
	@echo "Run history:   RENKOU_DB_KEY_FILE=$(KEYS)/db.key $(BIN)/renkou --home $(DEMO)/home history"

# ruff (lint and format) and mypy on the packages; CI runs this before the tests
lint: $(BIN)/renkou
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(BIN)/renkou
	$(BIN)/python -m pytest

# the Spark tests alone (they skip without Java or pyspark)
test-spark: install-spark
	$(BIN)/python -m pytest -m spark

test-fast: $(BIN)/renkou
	$(BIN)/python -m pytest -m "not slow"

bench: $(BIN)/renkou
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf var .pytest_cache
