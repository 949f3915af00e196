# 惠企通 — every target bootstraps .venv (python3.10) when it is missing or older than pyproject.toml.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
# python3.10 on PATH, else pyenv's 3.10 (its shim only answers when 3.10 is the selected version).
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v "$$p" || echo "$$p"; } && break; done)
QUICK ?=

.PHONY: help bootstrap sysdeps run run-scaled test lint kb train pauses eval-kb eval-nlu eval-dialogue bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(VENV)/.stamp: pyproject.toml
	@[ -n "$(PYTHON310)" ] || { echo "error: python3.10 not found (Rasa 3.6 needs Python 3.10; install it, e.g. pyenv install 3.10)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

bootstrap: $(VENV)/.stamp

sysdeps:  # Debian chromium, a CJK font and docker-compose for the tests (installed when root)
	@$(PY) -m tests.sysdeps

kb: bootstrap ## build var/knowledge.db when its sources changed
	@$(PY) -m knowledge build

train: bootstrap ## train the Rasa model unless one for the same inputs is cached in models/
	@$(PY) -m bot.train

run: bootstrap kb train ## start Rasa, actions and the gateway under supervisord (restarts, logs in var/log/); prints the URL
	@$(PY) -m gateway.admin load-demo
	@echo "starting 惠企通 at $$($(PY) -c "from huiqitong.settings import get_settings; print(get_settings().gateway_url)") (Rasa takes ~30 s to load; Ctrl-C stops everything) ..."
	@exec $(PY) -m gateway.supervise

# The scale-out profile on this machine's PostgreSQL and Redis (override any of these on the command line).
SCALED_ENV := DATABASE_URL=$(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/test) \
	RASA_TRACKER_STORE_URL=$(or $(RASA_TRACKER_STORE_URL),postgresql://postgres@127.0.0.1:5432/test) \
	REDIS_URL=$(or $(REDIS_URL),redis://127.0.0.1:6379) GATEWAY_WORKERS=$(or $(GATEWAY_WORKERS),2) \
	RASA_URLS=$(or $(RASA_URLS),http://127.0.0.1:5005,http://127.0.0.1:5006)

run-scaled: bootstrap kb train ## scale-out under supervisord: 2 Rasa (PostgreSQL tracker, Redis lock), 2 gateway workers on PostgreSQL
	@$(SCALED_ENV) $(PY) -m gateway.admin load-demo
	@echo "starting 惠企通 (scaled) ..."
	@$(SCALED_ENV) exec $(PY) -m gateway.supervise

test: bootstrap sysdeps kb train lint ## the whole suite: make lint, then pytest (exit 5 = no tests = failure)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	 if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

# The same three commands run in .pre-commit-config.yaml (tests/test_docs.py keeps them equal).
lint: bootstrap ## ruff check, ruff format --check, mypy (strict defs, tests included): what make test runs first
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

pauses: bootstrap ## retrain knowledge/pauses.json (where unpunctuated speech pauses) from the development split
	@$(PY) -m knowledge.pauses

eval-kb: bootstrap kb ## recall@1/@3 and MRR of our search vs rank_bm25
	@$(PY) -m knowledge eval

eval-nlu: bootstrap train ## rasa test nlu on the held-out set: intent macro-F1 and confusion matrix
	@$(PY) -m bot.eval_nlu

eval-dialogue: bootstrap kb train ## labelled owner messages through the real stack: confusion table, misleading replies, invented numbers (SPLIT=dev|heldout, MISSES=1, ONLY=owner8-, REWRITE=polite|voice|story|traditional)
	@$(PY) -m bot.eval_dialogue --check $(if $(SPLIT),--split $(SPLIT),) $(if $(MISSES),--show-misses,) $(if $(ONLY),--only $(ONLY),) $(if $(REWRITE),--rewrite $(REWRITE),)

bench: bootstrap kb train ## side-by-side benchmark: stock Rasa vs our stack vs scaled, a 510-turn conversation, KB vs rank_bm25, capacity model (QUICK=1, PROFILE=1)
	@$(PY) -m bench $(if $(QUICK),--quick,) $(if $(PROFILE),--profile,)
