# The two commands a newcomer needs:
#   make demo   install everything, then run the whole pipeline on the built-in default
#   make test   install everything, then run the test suite (what CI runs)
.PHONY: demo test test-slow install bench

install:
	./scripts/install.sh

demo: install
	.venv/bin/myoedge demo --out runs/demo

test: install
	.venv/bin/python -m pytest -n 2 --dist loadgroup -q

test-slow: install
	.venv/bin/python -m pytest -m slow -q

bench: install
	.venv/bin/python benchmarks/db5_training.py
