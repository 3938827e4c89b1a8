# npmtool — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PLUGIN_DIRS := plugins/kazakhstan plugins/kyrgyzstan plugins/uzbekistan
STAMP := $(VENV)/.installed

.PHONY: run test install translations init demo clean-instance e2e-deps messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# Re-install only when the package definitions change.
$(STAMP): $(BIN)/python setup.cfg pyproject.toml $(foreach d,$(PLUGIN_DIRS),$(d)/setup.cfg)
	$(BIN)/pip install --quiet -e '.[test,postgres]' $(foreach d,$(PLUGIN_DIRS),-e $(d))
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile -f -d npmtool/translations

init: install
	$(BIN)/npmtool init

demo: init
	$(BIN)/npmtool demo

# Install, create the instance (secret key, SQLite, plugins' data, demo once), serve.
run: demo
	@echo "Serving npmtool on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	$(BIN)/npmtool run --host $(HOST) --port $(PORT)

# The whole suite. NPMTOOL_TEST_DATABASE_URL=postgresql+psycopg://… runs it on PostgreSQL.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
e2e-deps:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

clean-instance:
	rm -rf instance/config.py instance/npmtool.sqlite instance/evidence

# Developers: refresh the catalogues after changing user-facing strings.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --add-comments=TRANSLATORS: \
		--no-location --sort-output -o npmtool/translations/messages.pot .
	$(BIN)/pybabel update -i npmtool/translations/messages.pot -d npmtool/translations --no-fuzzy-matching
