# camgrid: two commands on a fresh Debian 12 machine, as root: `make demo` and `make test`.
# Every target installs what it needs and skips what is done (stamps under .make/).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
APT_PACKAGES := ffmpeg fonts-dejavu-core python3-venv ca-certificates chromium postgresql nats-server fonts-lohit-deva fonts-noto-core slapd ldap-utils strace
# third-party RTSP servers for the interop tests (docs/design/interop.md): gst-rtsp-server, VLC, and a C++ tool chain
# to build live555 from its source
APT_PACKAGES += gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  python3-gi python3-gst-1.0 vlc-bin vlc-plugin-base g++ make
CAMERAS ?= 32
export CAMGRID_HOME ?= $(CURDIR)/var

.PHONY: demo test lint typecheck importlint pytest pytest-sqlite-pass pytest-postgres test-postgres bench-record bench-sim bench-recovery bench-retention deps clean help interop-deps bench-interop

help:
	@echo "make demo         simulated city + recorder + control room on http://127.0.0.1:8080"
	@echo "make test         lint, types, import layers and the whole test suite"
	@echo "make test-postgres  the whole test suite on PostgreSQL + NATS JetStream instead of SQLite"
	@echo "make bench-record CAMERAS=N   recorder benchmark against one ffmpeg per camera"
	@echo "make bench-sim STREAMS=N      the simulator's CPU per stream against raw readers (default 256)"
	@echo "make bench-recovery CAMERAS=N stall detection and reconnect after power cuts, against supervised ffmpeg"
	@echo "make bench-retention          retention's selection in SQL against reading every row into Python"
	@echo "make bench-interop            third-party RTSP servers and simulator quirks, recorded and compared picture by picture"
	@echo "make bench-motion             activity, tamper alarms and motion search on scripted scene cameras (MOTION_CAMERAS, MOTION_MINUTES)"

$(STAMPS)/apt: scripts/ensure-apt.sh Makefile
	@mkdir -p $(STAMPS)
	@scripts/ensure-apt.sh $(APT_PACKAGES)
	@touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/apt
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

deps: $(STAMPS)/venv

# live555 built once from its source (the PyPI sdist liblivemedia) into .make/cache/live555 for tests/interop
$(STAMPS)/live555: $(STAMPS)/venv scripts/build-live555.sh tests/interop/live555_server.cpp
	@PYTHON=$(BIN)/python scripts/build-live555.sh
	@touch $@

interop-deps: $(STAMPS)/live555

demo: deps web-build
	$(BIN)/camgrid demo

lint: deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: deps
	$(BIN)/mypy

importlint: deps
	$(BIN)/lint-imports

pytest: deps interop-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi; exit $$rc

# the same suite on the other back end: a PostgreSQL and a NATS JetStream server on loopback, a database per test
test-postgres: deps interop-deps
	CAMGRID_TEST_BACKEND=postgres $(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi; exit $$rc

# In `make test`, the second back end runs the packages whose code reads or writes the database or the bus (planner,
# geo, media, sim and the browser tests do not depend on the back end), and the cluster tests (they run on PostgreSQL
# + NATS whatever the back end, so each runs once: these files in this pass, the others in the SQLite pass, to even
# the two passes out); the schema fuzz runs in the SQLite pass only (on
# PostgreSQL each of its ~270 cases makes a database), while the bounds walk (tests/api/test_api_bounds.py) checks
# PostgreSQL's integer ranges. `make test-postgres` runs everything on PostgreSQL.
PG_PACKAGES = tests/test_config.py tests/db tests/registry tests/access tests/audit tests/exports tests/health tests/api tests/privacy tests/storage $(PG_CLUSTER) $(ONE_PASS)
# Packages that never touch the database or the bus: they run once, in this pass, to even the two passes out (the
# browser tests stay in the SQLite pass: Playwright's sync API and the NATS fixture's event loop share the thread)
ONE_PASS := tests/sim tests/geo tests/media
PG_CLUSTER := $(addprefix tests/cluster/,test_cluster_bus.py test_cluster_bus_auth.py test_cluster_control_plane.py \
  test_cluster_demo.py test_cluster_media_auth.py test_cluster_nats_outage.py test_cluster_playback.py \
  test_cluster_postgres.py test_cluster_runtime.py test_cluster_outbox.py test_cluster_leases.py \
  test_cluster_activity.py)
PG_SKIP := --ignore=tests/api/test_api_schema_fuzz.py
pytest-postgres: deps interop-deps
	CAMGRID_TEST_BACKEND=postgres $(BIN)/python -m pytest -q -p no:cacheprovider --durations=25 $(PG_PACKAGES) $(PG_SKIP); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi; exit $$rc

# make test's SQLite pass: everything but the cluster tests and the back-end-free packages the PostgreSQL pass runs
pytest-sqlite-pass: deps interop-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25 $(addprefix --ignore=,$(PG_CLUSTER) $(ONE_PASS)); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi; exit $$rc

# The two passes run side by side: most of their time is spent waiting on cameras, servers and clocks, not on the
# CPU, and the suite is built to pass on a busy machine (docs/design/tests-on-a-busy-machine.md). The two
# passes write their own logs (a progress line every minute meanwhile), printed whole at the end; `make test`
# fails if either fails.
test: lint typecheck importlint web-test web-build interop-deps
	scripts/test-passes.sh

bench-record: deps
	$(BIN)/python bench/bench_record.py --cameras $(CAMERAS)

# every third-party RTSP server variant (and every simulator quirk, when the simulator has them) recorded for
# INTEROP_SECONDS and compared picture by picture with its source (docs/design/interop.md)
INTEROP_SECONDS ?= 60
bench-interop: deps interop-deps
	$(BIN)/python bench/bench_interop.py --seconds $(INTEROP_SECONDS)

STREAMS ?= 256
bench-sim: deps
	$(BIN)/python bench/bench_sim.py --streams $(STREAMS)

# issue 17: MOTION_CAMERAS scene cameras for MOTION_MINUTES with scripted motion and tamper, recorded by the real
# recorder and scored against the simulator's truth (a smoke run: MOTION_CAMERAS=8 MOTION_MINUTES=4)
MOTION_CAMERAS ?= 64
MOTION_MINUTES ?= 10
.PHONY: bench-motion
bench-motion: deps
	$(BIN)/python bench/bench_motion.py --cameras $(MOTION_CAMERAS) --minutes $(MOTION_MINUTES)

# edge backfill after two uplinks are cut for BACKFILL_CUT_S (docs/design/onvif.md, "Edge backfill"); a smoke run:
# BENCH_BACKFILL_CUT_S=20 BENCH_BACKFILL_CAMERAS=8 make bench-backfill
BACKFILL_CAMERAS ?= $(or $(BENCH_BACKFILL_CAMERAS),32)
BACKFILL_CUT_S ?= $(or $(BENCH_BACKFILL_CUT_S),300)
.PHONY: bench-backfill
bench-backfill: deps
	$(BIN)/python bench/bench_backfill.py --cameras $(BACKFILL_CAMERAS) --cut-s $(BACKFILL_CUT_S)

# the service-level timings tests no longer assert (docs/design/tests-on-a-busy-machine.md); ROUNDS of each fault
ROUNDS ?= 5
bench-recovery: deps
	$(BIN)/python bench/bench_recovery.py --cameras $(CAMERAS) --rounds $(ROUNDS)

# RETENTION_CAMERAS x RETENTION_SEGMENTS index rows (no files)
RETENTION_CAMERAS ?= 2000
RETENTION_SEGMENTS ?= 100
bench-retention: deps
	$(BIN)/python bench/bench_retention.py --cameras $(RETENTION_CAMERAS) --segments $(RETENTION_SEGMENTS)

clean:
	rm -rf $(STAMPS) $(VENV) var

# health: outage correlation benchmark (62,000-camera city day; engine vs one-alarm-per-camera baseline)
.PHONY: bench-health
bench-health: deps
	$(BIN)/python bench/bench_health.py

# planner (camgrid.planner): coverage planner benchmark; BASELINE_LIMIT=60 for a quick run
.PHONY: bench-plan
bench-plan: deps
	$(BIN)/python bench/bench_plan.py $(if $(BASELINE_LIMIT),--baseline-limit $(BASELINE_LIMIT))

# city-scale planner (docs/design/planner-city.md): 10 x 10 km synthetic city, budget 15,000, decomposed with a bound
.PHONY: bench-plan-city
bench-plan-city: deps
	$(BIN)/python bench/bench_plan_city.py $(if $(CITY_KM),--km $(CITY_KM))

# the same city planned from the control room: camgrid serve + Chromium on the planner screen (issue 18's "done when")
.PHONY: bench-plan-city-screen
bench-plan-city-screen: deps
	$(BIN)/python bench/bench_plan_city_screen.py $(if $(CITY_KM),--km $(CITY_KM))

# web (control-room front end in web/): TypeScript + Vite bundle into src/camgrid/web/static/, Vitest for timeline maths;
# both fail when web/src/api-types.ts is not what web/openapi.json (the API's OpenAPI document) generates
.PHONY: web-build web-test
WEB_INPUTS := $(shell find web/src web/scripts web/openapi.json web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

$(STAMPS)/web-deps: web/package.json $(wildcard web/package-lock.json)
	@mkdir -p $(STAMPS)
	@command -v npm >/dev/null || { echo "web: npm (node >= 20.19) is needed to build the control room" >&2; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
	  || { echo "web: node >= 20.19 is needed by Vite 8 (found $$(node --version))" >&2; exit 1; }
	@cd web && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	  else npm install --no-audit --no-fund --loglevel=error; fi
	@touch $@

$(STAMPS)/web-build: $(STAMPS)/web-deps web/package-lock.json $(WEB_INPUTS)
	cd web && npm run --silent build
	@touch $@

web-build:
	@test -f src/camgrid/web/static/index.html || rm -f $(STAMPS)/web-build
	@$(MAKE) --no-print-directory $(STAMPS)/web-build

web-test: $(STAMPS)/web-deps
	cd web && npm test --silent

# control room: live latency, seek and the 62,000-camera map in real Chromium
.PHONY: bench-control-room
bench-control-room: deps web-build
	$(BIN)/python bench/bench_control_room.py

# privacy: decode-mask-encode cost per masked 720p camera
.PHONY: bench-privacy
bench-privacy: deps
	$(BIN)/python bench/bench_privacy.py

# access.audit: tamper-evident audit log (appends into SQLite vs a naive log, proof size and verify time at 1e6)
.PHONY: bench-audit
bench-audit: deps
	$(BIN)/python bench/bench_audit.py

# cluster (camgrid.cluster): PostgreSQL + NATS JetStream (Debian packages, loopback) + recorder nodes over the sim
.PHONY: bench-cluster demo-cluster
CLUSTER_CAMERAS ?= 96
DEMO_CLUSTER_CAMERAS ?= 24
bench-cluster: deps
	$(BIN)/python bench/bench_cluster.py --cameras $(CLUSTER_CAMERAS)

demo-cluster: deps web-build
	$(BIN)/python -m camgrid.demo.cluster --cameras $(DEMO_CLUSTER_CAMERAS)
