# vsched: build, test, lint, benchmark, fuzz, demo.
# The libvirt binding is always built with -tags libvirt_dlopen, so building
# needs only gcc; running needs libvirt.so.0 (Debian package libvirt0).

GO          ?= go
TAGS        := libvirt_dlopen
BIN         := bin/vsched
GOLANGCI    := golangci-lint
GOLANGCI_V  := v2.15.0
FUZZTIME    ?= 10s
BENCHTIME   ?= 1s
GOBIN       := $(shell $(GO) env GOPATH)/bin
# VERSION: from git, as a valid dpkg/rpm version (scripts/package/version.sh);
# linked into the binary, so that vsched --version prints it.
ifeq ($(origin VERSION),undefined)
VERSION     := $(shell scripts/package/version.sh)
endif
LDFLAGS     := -X main.version=$(VERSION)

.PHONY: all build test unit e2e lint bench fuzz demo deps clean man package nfpm

all: build

# build also builds vsched-plot next to vsched: --plot runs it, so that the
# plotting library is not linked into the daemon.
build:
	$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vsched
	$(GO) build -o bin/vsched-plot ./cmd/vsched-plot

# deps installs what the tests need when it is missing: libvirt.so.0 for the
# in-process test driver. Not root: says exactly what to install.
deps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libvirt.so.0 '; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing libvirt0 (libvirt.so.0 for the test driver)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvirt0; \
	  else \
	    echo "make: libvirt.so.0 is missing: run 'sudo apt-get install --no-install-recommends libvirt0'" >&2; exit 1; \
	  fi; \
	fi

# test: unit and integration tests with the race detector, then the
# end-to-end tier against a real libvirtd with real guests.
test: unit e2e

unit: deps
	$(GO) test -race -tags $(TAGS) -count=1 ./...

# e2e brings up libvirtd and real QEMU guests (scripts/host-up.sh) and runs
# the daemon against them. Skips with a reason when not root outside CI.
# The guest type (kvm or qemu/TCG) it ran is printed at the start.
e2e: deps build
	@if [ "$$(id -u)" != 0 ] && [ -z "$$CI" ]; then \
	  echo "make e2e: SKIP: the end-to-end tier needs root (it starts libvirtd and QEMU guests)"; \
	else \
	  scripts/host-up.sh && \
	  VSCHED_BIN=$(CURDIR)/$(BIN) $(GO) test -tags '$(TAGS) e2e' -count=1 -timeout 30m -v -run '^TestE2E' ./cmd/vsched/; \
	  rc=$$?; scripts/host-down.sh; exit $$rc; \
	fi

# soak runs vsched at --interval 20ms for SOAK_DURATION on real guests that
# are replaced every few seconds, with a vCPU hot-plugged and libvirtd
# restarted; it fails when heap, goroutines or descriptors grow after
# SOAK_WARMUP, a pin is lost or vsched dies, and prints the figures over
# time. Minutes long: not part of `make test`.
SOAK_DURATION ?= 3m
SOAK_WARMUP   ?= 30s
.PHONY: soak
soak: deps build
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "make soak: the soak needs root (it starts libvirtd and QEMU guests)" >&2; exit 1; \
	fi; \
	scripts/host-up.sh && \
	VSCHED_BIN=$(CURDIR)/$(BIN) VSCHED_SOAK_DURATION=$(SOAK_DURATION) VSCHED_SOAK_WARMUP=$(SOAK_WARMUP) \
	  $(GO) test -tags '$(TAGS) e2e' -count=1 -timeout 60m -v -run '^TestSoak' ./cmd/vsched/; \
	rc=$$?; scripts/host-down.sh; exit $$rc

# compare runs the same real guests (2 burners + 2 duty 1:3, all starting on
# pCPU0) under the kernel alone, static pins, vsched classic and adaptive,
# COMPARE_ROUNDS times in rotation, and writes per-regime tables and a plot
# to bin/compare/ (compare.md, compare.svg). COMPARE_TABLE=FILE also copies
# the tables there. Needs root.
COMPARE_ROUNDS ?= 3
COMPARE_TABLE  ?=
.PHONY: compare
compare: build
	$(GO) build -o bin/vsched-compare ./cmd/vsched-compare
	scripts/compare.sh --out bin/compare --rounds $(COMPARE_ROUNDS) $(if $(COMPARE_TABLE),--table $(COMPARE_TABLE))

# test-host runs the production-shaped tier (cmd/vsched/testhost) inside the
# test host VM (scripts/testhost.sh: Debian 12, systemd, cgroup v2, 2 sockets
# x 2 cores x 2 threads, 2 NUMA nodes), building its image first if its
# recipe changed: one boot for every scenario, one --kvm-inside boot for
# KVM guests. The upgrade test installs the .deb of TESTHOST_PREV first:
# by default the first commit that starts on Debian 12's kernel with 8 CPUs
# (every build before it exits on the padded nohz_full, so an upgrade from
# it would test no checkpoint).
# Needs root.
TESTHOST_DIR     := bin/testhost
TESTHOST_PREV    ?= 604f159
TESTHOST_TIMEOUT ?= 60m
TESTHOST_FILES   := $(TESTHOST_DIR)/tier.sh $(TESTHOST_DIR)/testhost.test $(TESTHOST_DIR)/guest.sh $(TESTHOST_DIR)/lib.sh
.PHONY: test-host
test-host: package
	mkdir -p $(TESTHOST_DIR)
	CGO_ENABLED=0 $(GO) test -c -tags testhost -o $(TESTHOST_DIR)/testhost.test ./cmd/vsched/testhost
	cp scripts/testhost/tier.sh scripts/guest.sh scripts/lib.sh $(TESTHOST_DIR)/
	scripts/testhost/prev-deb.sh '$(TESTHOST_PREV)' '$(VERSION)~prev' $(TESTHOST_DIR)/vsched-prev.deb
	scripts/testhost.sh build
	@rc=0; \
	scripts/testhost.sh run --timeout $(TESTHOST_TIMEOUT) $(TESTHOST_FILES) $(TESTHOST_DIR)/vsched-prev.deb || rc=$$?; \
	scripts/testhost.sh run --kvm-inside --timeout $(TESTHOST_TIMEOUT) $(TESTHOST_FILES) || rc=$$?; \
	exit $$rc

lint:
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet -tags '$(TAGS) e2e' ./cmd/vsched/
	@command -v $(GOLANGCI) >/dev/null 2>&1 || [ -x $(GOBIN)/$(GOLANGCI) ] || \
	  $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_V)
	PATH=$(GOBIN):$$PATH $(GOLANGCI) run --build-tags $(TAGS),e2e ./...
	@if command -v shellcheck >/dev/null 2>&1; then shellcheck -x scripts/*.sh; \
	  else echo "make lint: shellcheck is not installed (apt-get install shellcheck): scripts not checked"; fi

bench: deps
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./cgroupstats/ ./balancer/

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list -tags $(TAGS) ./...); do \
	  for f in $$($(GO) test -tags $(TAGS) -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# demo brings up libvirtd and four small guests all pinned to pCPU0, runs
# vsched at 500ms for about 30s showing per-pCPU usage live, writes
# demo.svg and tears everything down.
demo: build
	scripts/demo.sh

# package writes dist/vsched_<version>_<arch>.deb and
# dist/vsched-<version>-1.<arch>.rpm with nfpm (scripts/package/nfpm.yaml):
# /usr/sbin/vsched, vsched.service, the flags file, man pages, bash completion.
# Inputs are staged in $(PKGDIR); dates come from the last commit
# (SOURCE_DATE_EPOCH), so the same commit gives the same packages.
# scripts/package/check.sh checks what it wrote.
NFPM        := $(GOBIN)/nfpm
NFPM_V      := v2.45.2
PKGDIR      := bin/package
PKG_GOARCH  := $(shell $(GO) env GOARCH)
DEB_ARCH    := $(PKG_GOARCH)
RPM_ARCH    := $(patsubst amd64,x86_64,$(patsubst arm64,aarch64,$(PKG_GOARCH)))
DEB         := dist/vsched_$(VERSION)_$(DEB_ARCH).deb
RPM         := dist/vsched-$(VERSION)-1.$(RPM_ARCH).rpm
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

package: nfpm man
	rm -rf $(PKGDIR)/deb $(PKGDIR)/rpm && mkdir -p $(PKGDIR)/deb $(PKGDIR)/rpm dist
	sed 's|@FLAGS_FILE@|/etc/default/vsched|' scripts/package/vsched.service.in > $(PKGDIR)/deb/vsched.service
	sed 's|@FLAGS_FILE@|/etc/sysconfig/vsched|' scripts/package/vsched.service.in > $(PKGDIR)/rpm/vsched.service
	rm -f dist/vsched_*.deb dist/vsched-*.rpm
	VERSION='$(VERSION)' GOARCH=$(PKG_GOARCH) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	  $(NFPM) package --config scripts/package/nfpm.yaml --packager deb --target $(DEB)
	VERSION='$(VERSION)' GOARCH=$(PKG_GOARCH) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	  $(NFPM) package --config scripts/package/nfpm.yaml --packager rpm --target $(RPM)

# man builds the package's binary (stripped, versioned) and has it write its
# man pages and bash completion from its own command definitions (the hidden
# `vsched docs`), the pages gzipped as packages install them.
man:
	mkdir -p $(PKGDIR)
	$(GO) build -tags $(TAGS) -trimpath -ldflags '-s -w $(LDFLAGS)' -o $(PKGDIR)/vsched ./cmd/vsched
	rm -rf $(PKGDIR)/man
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(PKGDIR)/vsched docs --man-dir $(PKGDIR)/man --bash-completion $(PKGDIR)/vsched.bash
	gzip -9n $(PKGDIR)/man/*.8

# nfpm installs the pinned nfpm from the Go module proxy when it is missing.
nfpm:
	@$(GO) version -m $(NFPM) 2>/dev/null | grep -q 'goreleaser/nfpm/v2[[:space:]]*$(NFPM_V)[[:space:]]' || \
	  $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_V)

clean:
	rm -rf bin
