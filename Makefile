# Entry points for operators and CI; the work is done by scripts/ and bot/cli.py.
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
# Rasa must not report usage or crashes to a remote service.
export RASA_TELEMETRY_ENABLED = false

.DEFAULT_GOAL := help
.PHONY: help venv run run-production train test lint nlu-report bench bench-scale-out conversations fuzz

help:
	@echo "make venv        crée/actualise .venv (Python 3.10, requirements.lock)"
	@echo "make run         entraîne si besoin, puis lance portail, actions et Rasa"
	@echo "make run-production  topologie de production locale : nginx, 2 portails, 2 actions, 2 Rasa, PostgreSQL, Redis (ARGS=\"--demo\")"
	@echo "make train       entraîne le modèle Rasa (ignoré si rien n'a changé)"
	@echo "make test        ruff, rasa data validate, rasa train, pytest (comme la CI)"
	@echo "make lint        ruff check"
	@echo "make nlu-report  évalue le NLU sur tests/nlu_test.yml (results/nlu)"
	@echo "make fuzz        Schemathesis sur l'API du portail (200 exemples par opération, aucune erreur 5xx)"
	@echo "make bench       banc de vitesse : nos parcours vs. le bot rasa init nu, même exécution (bench/RESULTS.md)"
	@echo "make bench-scale-out  montée en charge : 1 et 2 serveurs Rasa derrière nginx vs. la pile embarquée (bench/SCALE_OUT.md)"
	@echo "make conversations  banc de conversations : scénarios par catégorie, réussites par catégorie (ARGS=\"--only faq\")"

$(INSTALLED): requirements.lock pyproject.toml
	scripts/bootstrap-venv

# The chat widget's browser dependency (socket.io-client), from the npm lock file.
WEB := bot/channels/webchat/node_modules/.package-lock.json
$(WEB): bot/channels/webchat/package-lock.json
	scripts/bootstrap-web

venv: $(INSTALLED) $(WEB)

run: $(INSTALLED) $(WEB)
	$(PY) -m bot.cli run

# The production topology on this machine (installs nginx from Debian if missing): see
# scripts/run-production and bot/runner/production.py; ARGS passes options, e.g. ARGS="--demo".
run-production: $(INSTALLED) $(WEB)
	scripts/run-production $(ARGS)

train: $(INSTALLED)
	$(PY) -m bot.cli train

test: $(INSTALLED) $(WEB)
	scripts/test

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

# Intent accuracy counts the FAQ questions as one intent, `faq`; the response selector's accuracy
# is which answer (faq/<key>) it picks for the test examples that have one.
nlu-report: $(INSTALLED)
	rm -f results/nlu/response_selection_report.json
	$(RASA) test nlu --nlu tests/nlu_test.yml --model models/ --out results/nlu
	@$(PY) scripts/nlu_report_summary results/nlu

# Speed benchmark (issue 11): our stack vs. a bare `rasa init` bot (trained once into var/bench/),
# same run, interleaved; needs a trained model; ARGS passes options, e.g. ARGS="--conversations 4".
bench: $(INSTALLED)
	$(PY) -m bench.speed $(ARGS)

# Scale-out benchmark (issue 12): the embedded stack, then 1 and 2 Rasa servers behind nginx on
# PostgreSQL and Redis, same run, interleaved (bench/SCALE_OUT.md). Needs a trained model, nginx
# (make run-production installs it), PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379;
# ARGS passes options, e.g. ARGS="--concurrency 10 30 --conversations 240".
bench-scale-out: $(INSTALLED)
	$(PY) -m bench.scale_out $(ARGS)

# Conversation test bench (bench/conversations/README.md): needs a trained model; ARGS passes
# options, e.g. make conversations ARGS="--only exits --markdown".
conversations: $(INSTALLED)
	$(PY) -m bench.conversations $(ARGS)

fuzz: $(INSTALLED)
	FUZZ_EXAMPLES=200 $(PY) -m pytest tests/portal/test_api_fuzz.py -q
