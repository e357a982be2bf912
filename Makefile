# Pyrite's entry points. Each target installs what it needs first (tools/setup).
#
# FEATURES=heap-crate (or heap-bump, heap-linked-list, heap-fixed-block) picks
# the kernel heap's design. The choice is remembered in build/heap-design and
# holds for later targets until another FEATURES= (FEATURES= alone goes back
# to the default) or make clean.
HEAP_DESIGNS := heap-fixed-block heap-bump heap-linked-list heap-crate
DEFAULT_DESIGN := heap-fixed-block
DESIGN_FILE ?= build/heap-design
comma := ,
ifeq ($(origin FEATURES),undefined)
  REMEMBERED := $(strip $(shell cat $(DESIGN_FILE) 2>/dev/null))
  DESIGN := $(or $(REMEMBERED),$(DEFAULT_DESIGN))
  DESIGN_WHY := $(if $(REMEMBERED),remembered in $(DESIGN_FILE),the default)
else
  DESIGN := $(or $(strip $(subst $(comma), ,$(FEATURES))),$(DEFAULT_DESIGN))
  DESIGN_WHY := from FEATURES
endif
ifneq ($(words $(DESIGN)),1)
  $(error FEATURES="$(DESIGN)" names $(words $(DESIGN)) heap designs; choose one of: $(HEAP_DESIGNS))
endif
ifeq ($(filter $(DESIGN),$(HEAP_DESIGNS)),)
  $(error FEATURES=$(DESIGN) is no heap design; choose one of: $(HEAP_DESIGNS))
endif
# The default design is a default cargo feature; another replaces it.
CARGO_FEATURES := $(if $(filter-out $(DEFAULT_DESIGN),$(DESIGN)),--no-default-features --features $(DESIGN))

KERNEL := target/x86_64-unknown-none/release/pyrite
ISO    := build/pyrite.iso
# make debug's kernel: cargo's dev profile (no optimisation, full debug
# information), so gdb shows every variable and steps line by line.
DEBUG_KERNEL := target/x86_64-unknown-none/debug/pyrite
DEBUG_ISO    := build/pyrite-debug.iso
SETUP  := @PYRITE_SETUP_QUIET=1 tools/setup

.PHONY: all iso run run-uefi test bench debug debug-iso clean kernel setup design programs

all: iso

setup:
	@tools/setup

# Remembers and reports the heap design.
design:
	@mkdir -p $(dir $(DESIGN_FILE))
	@$(if $(filter command line environment,$(origin FEATURES)),echo $(DESIGN) > $(DESIGN_FILE))
	@echo "heap design: $(DESIGN) ($(DESIGN_WHY)); make FEATURES=<design> picks another"

kernel: design
	$(SETUP)
	cargo build --release $(CARGO_FEATURES)

# The ISO carries the user programs (user/) as boot modules: tools/user-programs
# builds them and names each (/bin/hello, ...).
PROGRAMS := build/user-programs
programs:
	$(SETUP)
	@mkdir -p build
	tools/user-programs > $(PROGRAMS).new
	mv $(PROGRAMS).new $(PROGRAMS)

iso: kernel programs
	BOOT_MODULES="$$(cat $(PROGRAMS))" tools/mkiso $(KERNEL) $(ISO)
	@echo "built $(ISO) ($$(du -h $(ISO) | cut -f1))"

run: iso
	tools/qemu.py run --firmware bios $(ISO)

run-uefi: iso
	tools/qemu.py run --firmware uefi $(ISO)

bench: iso
	tools/bench

debug-iso: design programs
	$(SETUP)
	cargo build $(CARGO_FEATURES)
	BOOT_MODULES="$$(cat $(PROGRAMS))" tools/mkiso $(DEBUG_KERNEL) $(DEBUG_ISO)

debug: debug-iso
	tools/qemu.py debug $(DEBUG_KERNEL) $(DEBUG_ISO)

test: iso debug-iso
	$(SETUP)
	tools/test-all

clean:
	cargo clean
	rm -rf build tools/chart/target user/target

# Copies the chart of the last full `make bench` (build/bench.svg) to the
# tracked docs/bench.svg; make bench itself writes only under build/.
.PHONY: bench-docs
bench-docs:
	@test -f build/bench.svg || { echo "build/bench.svg is missing: run make bench first"; exit 1; }
	cp build/bench.svg docs/bench.svg
