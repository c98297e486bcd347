# Two commands for a fresh machine with python3 and make:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-gpu bench clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-test
	$(PY) examples/demo.py

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -m "not gpu" tests

bench: $(VENV)/.installed-test,bench
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

# On a machine with a CUDA GPU and the gpu extra installed: the CuPy tests.
test-gpu: $(VENV)/.installed-test
	$(PY) -m pytest -q -m gpu tests
