# `make help` lists every target with its one-line description.
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help install test test-slow test-slurm lint format run clean clean-cache bench sweep-mini analyze sync dashboard reproduce-cpu answers-cpu gpu-check

help: ## Show this help
	@grep -E '^[a-zA-Z_%-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'
	@echo "  sweeps (make sweep-NAME):"; for s in $(SWEEPS); do echo "    $$s"; done

install: ## Create .venv and install unlearn (editable) with its test extra
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'

# one pytest worker per core (pytest-xdist); TEST_WORKERS=0 runs in this process (pdb, -s)
TEST_WORKERS ?= 2
test: ## Run the fast test suite (CPU, offline; TEST_WORKERS=2 processes)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

test-slow: ## Run the slow tests as well
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m ''

# tests/slurm against a real one-node SLURM cluster on this machine (root, Debian/Ubuntu):
# installs and starts it (scripts/slurm-local.sh up), runs the tests, stops it again
# (down --purge) whatever they gave. docs/slurm.md.
test-slurm: ## Sweeps, signals, time limits, preflight on a real local SLURM cluster (root; 23 min measured)
	@start=$$(date +%s); scripts/slurm-local.sh up || exit 1; up=$$(date +%s); \
	$(PY) -m pytest tests/slurm -q -m '' -p no:cacheprovider; status=$$?; tested=$$(date +%s); \
	scripts/slurm-local.sh down --purge; \
	echo "test-slurm: cluster up $$((up - start)) s, tests $$((tested - up)) s, down $$(( $$(date +%s) - tested )) s"; \
	exit $$status

lint: ## Lint and check formatting with ruff
	$(PY) -m ruff check unlearn tests bench hydra_plugins
	$(PY) -m ruff format --check unlearn tests bench hydra_plugins
	bash -n scripts/slurm-local.sh

format: ## Format the code with ruff
	$(PY) -m ruff check --fix unlearn tests
	$(PY) -m ruff format unlearn tests

bench: ## Benchmarks: framework vs bare PyTorch, tracking, σ engines, twin (writes bench/results.json)
	$(PY) bench/run_all.py

run: ## Run the default job (digits, small CNN, CPU)
	$(PY) -m unlearn

# Sweeps (multirun_sweeps/NAME.yaml): each writes multirun/NAME/<time>/, then analyses it.
SWEEPS := $(sort $(basename $(notdir $(wildcard multirun_sweeps/*.yaml))))
MINI_SWEEPS := $(filter %_mini,$(SWEEPS))
STAMP := $(shell date +%Y-%m-%d_%H-%M-%S)
DRY := $(filter 1 yes true,$(DRY_RUN))

sweep-mini: ## Run every *_mini sweep (CPU, digits) into multirun/mini/<time>/ and analyse them together
ifneq ($(DRY),)
	@for s in $(MINI_SWEEPS); do $(PY) -m unlearn.sweeps $$s $(ARGS) || exit 1; done
else
	@start=$$(date +%s); status=0; mkdir -p multirun/mini/$(STAMP); \
	for s in $(MINI_SWEEPS); do \
		echo "== $$s"; \
		$(PY) -m unlearn -m +sweep=$$s hydra.sweep.dir=multirun/mini/$(STAMP)/$$s $(ARGS) \
			> multirun/mini/$(STAMP)/$$s.log 2>&1 || { status=1; echo "   $$s failed: multirun/mini/$(STAMP)/$$s.log"; }; \
	done; \
	$(PY) -m unlearn.analyze multirun/mini/$(STAMP) || status=1; \
	echo "sweep-mini: $$(( $$(date +%s) - start )) s wall; report: multirun/mini/$(STAMP)/report.md"; \
	exit $$status
endif

# The folder a sweep writes: hydra.sweep.dir=... from ARGS if given, else multirun/NAME/<time>.
sweep_dir = $(or $(patsubst hydra.sweep.dir=%,%,$(filter hydra.sweep.dir=%,$(ARGS))),multirun/$(1)/$(STAMP))

sweep-%: ## Run sweep NAME and analyse it (DRY_RUN=1: only list its jobs; ARGS="...": more overrides)
ifneq ($(DRY),)
	@$(PY) -m unlearn.sweeps $* $(ARGS)
else
	$(PY) -m unlearn -m +sweep=$* hydra.sweep.dir=$(call sweep_dir,$*) $(filter-out hydra.sweep.dir=%,$(ARGS))
	$(PY) -m unlearn.analyze $(call sweep_dir,$*)
endif

# The paper's grids on real CIFAR-10 on two CPU cores (docs/reproduce-cifar.md): 90 jobs on
# the width-16 presets, two at a time with one thread each, then one analysis over all.
# CIFAR_NPZ=/path/to/cifar10.npz reads a local copy (else torchvision downloads it);
# SIGMA=reference switches the σ protocol (conf/sigma/); DRY_RUN=1 lists the jobs.
CPU_SWEEPS := table4_cpu fig9_t_cpu fig11_gamma_cpu privacy_cpu grid160_cpu table3_l2_cpu
CPU_JOBS ?= 2
CPU_ARGS = $(if $(CIFAR_NPZ),data.npz=$(CIFAR_NPZ)) $(if $(SIGMA),sigma=$(SIGMA)) logger=csv $(ARGS)

reproduce-cpu: ## Paper grids on real CIFAR-10, 2 CPU cores, 99 min cold / 49 warm (CIFAR_NPZ=PATH, SIGMA=reference, DRY_RUN=1)
ifneq ($(DRY),)
	@for s in $(CPU_SWEEPS); do $(PY) -m unlearn.sweeps $$s $(CPU_ARGS) || exit 1; done
else
	@start=$$(date +%s); status=0; out=multirun/reproduce-cpu/$(STAMP); mkdir -p $$out; \
	for s in $(CPU_SWEEPS); do \
		echo "== $$s ($$(( $$(date +%s) - start )) s)"; \
		OMP_NUM_THREADS=1 $(PY) -m unlearn -m +sweep=$$s hydra.sweep.dir=$$out/$$s \
			hydra/launcher=local_gpus hydra.launcher.n_jobs=$(CPU_JOBS) $(CPU_ARGS) \
			> $$out/$$s.log 2>&1 || { status=1; echo "   $$s failed: $$out/$$s.log"; }; \
	done; \
	$(PY) -m unlearn.analyze $$out || status=1; \
	echo "reproduce-cpu: $$(( $$(date +%s) - start )) s wall; report: $$out/report.md"; \
	exit $$status
endif

# The real-data answers (docs/findings.md): the CIFAR-10 methods leaderboard and the rule
# "when unlearning helps" on digits and CIFAR-10, in one folder so that its report pools them.
ANSWER_SWEEPS := when_helps_mini methods_cpu when_helps_cpu
answers-cpu: ## CIFAR-10 leaderboard + when unlearning helps (digits and CIFAR pooled), 2 CPU cores (CIFAR_NPZ=PATH, DRY_RUN=1)
ifneq ($(DRY),)
	@for s in $(ANSWER_SWEEPS); do \
		case $$s in *_mini) args="logger=csv $(ARGS)";; *) args="$(CPU_ARGS)";; esac; \
		$(PY) -m unlearn.sweeps $$s $$args || exit 1; done
else
	@start=$$(date +%s); status=0; out=multirun/answers-cpu/$(STAMP); mkdir -p $$out; \
	for s in $(ANSWER_SWEEPS); do \
		case $$s in *_mini) args="logger=csv $(ARGS)";; *) args="$(CPU_ARGS)";; esac; \
		echo "== $$s ($$(( $$(date +%s) - start )) s)"; \
		OMP_NUM_THREADS=1 $(PY) -m unlearn -m +sweep=$$s hydra.sweep.dir=$$out/$$s \
			hydra/launcher=local_gpus hydra.launcher.n_jobs=$(CPU_JOBS) $$args \
			> $$out/$$s.log 2>&1 || { status=1; echo "   $$s failed: $$out/$$s.log"; }; \
	done; \
	for s in $(ANSWER_SWEEPS); do $(PY) -m unlearn.analyze $$out/$$s > /dev/null || status=1; done; \
	$(PY) -m unlearn.analyze $$out || status=1; \
	echo "answers-cpu: $$(( $$(date +%s) - start )) s wall; report: $$out/report.md (pooled;" \
		"each sweep's own, with the leaderboard of methods_cpu: $$out/<sweep>/report.md)"; \
	exit $$status
endif

gpu-check: ## GPU acceptance in <= 8 min: noise floor, a real window, timings, grid160 -> one JSON (DEVICE=cpu: tiny logic check)
	DEVICE=$(or $(DEVICE),cuda) bench/gpu.sh

analyze: ## Write summary.csv, report.md and figures/ into a sweep folder: make analyze SWEEP=multirun/...
	@test -n "$(SWEEP)" || { echo "usage: make analyze SWEEP=<sweep folder>" >&2; exit 2; }
	$(PY) -m unlearn.analyze $(SWEEP)

sync: ## Upload every offline W&B run under a sweep folder: make sync SWEEP=multirun/...
	@test -n "$(SWEEP)" || { echo "usage: make sync SWEEP=<sweep folder>" >&2; exit 2; }
	$(PY) -m unlearn.sync $(SWEEP) $(ARGS)

dashboard: ## Upload a sweep, then save its W&B workspace and report: make dashboard SWEEP=multirun/...
	@test -n "$(SWEEP)" || { echo "usage: make dashboard SWEEP=<sweep folder>" >&2; exit 2; }
	$(PY) -m unlearn.sync $(SWEEP) --dashboard $(ARGS)

clean: ## Remove run outputs and tool caches (keeps .venv and the pretrain cache: make clean-cache)
	rm -rf outputs multirun .pytest_cache .ruff_cache

CACHE_DIR := $(or $(UNLEARN_CACHE),.cache)
clean-cache: ## Remove the pretrain/feature/shadow cache (UNLEARN_CACHE or .cache; grid160 leaves ~26 GB)
	rm -rf $(CACHE_DIR)
