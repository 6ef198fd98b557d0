# Quickstart: `make report` (synthetic suite + website), `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PARAMS ?= params/synthetic.yaml

.PHONY: install video-env report report-all test lab bench bench-quality clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# The sidecar environment of `pseudoface extract` (mediapipe 0.10.21 needs numpy < 2, so it never
# joins .venv): created from requirements-video.txt, or a no-op when its stamp matches the lock.
video-env: $(STAMP)
	$(VENV)/bin/pseudoface extract --setup

report: $(STAMP)
	$(VENV)/bin/pseudoface report --params $(PARAMS)

# Every params file whose corpus is present (the command says which it skipped and why).
report-all: $(STAMP)
	$(VENV)/bin/pseudoface report --all

test: $(STAMP) video-env
	$(PY) -m pytest -q

lab: $(STAMP)
	PLOTLY_RENDERER=plotly_mimetype+notebook $(VENV)/bin/jupyter lab notebooks/ --allow-root --no-browser \
	  --LabApp.extension_manager=readonly

bench: $(STAMP)
	$(PY) benchmarks/bench_parse.py

# The quality table of docs/results.md: every cue family on the reported corpus seeds 0-9
# (model choices are made on dev seeds >= 1000, never these); ~20-35 s a cell on 2 cores, ~55 min.
SEEDS ?= 0 1 2 3 4 5 6 7 8 9
bench-quality: $(STAMP)
	$(PY) benchmarks/bench_quality.py --families all --seeds $(SEEDS)

clean:
	rm -rf reports/_site reports/_partial reports/_generated runs .pytest_cache
