# Two commands for a fresh machine with python3 and make:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-gpu bench docs clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-test
	$(PY) examples/demo.py

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -m "not gpu" tests
	$(PY) -m pytest -q --nbmake examples/*.ipynb

bench: $(VENV)/.installed-test,bench
	$(PY) benchmarks/run.py

# The site (API reference, markdown pages, gallery of examples/plot_*.py) into docs/_build/html;
# warnings are errors.
docs: $(VENV)/.installed-test,docs
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache docs/_build docs/auto_examples docs/generated \
		docs/sg_execution_times.rst

# On a machine with a CUDA GPU and the gpu extra installed: the CuPy tests.
test-gpu: $(VENV)/.installed-test
	$(PY) -m pytest -q -m gpu tests
