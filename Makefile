# Pyrite's entry points. Each target installs what it needs first (tools/setup).
# FEATURES=heap-crate (or heap-bump, heap-linked-list) picks another heap design.
FEATURES ?=
KERNEL := target/x86_64-unknown-none/release/pyrite
ISO    := build/pyrite.iso
SETUP  := @PYRITE_SETUP_QUIET=1 tools/setup

.PHONY: all iso run run-uefi test bench debug clean kernel setup

all: iso

setup:
	@tools/setup

kernel:
	$(SETUP)
	cargo build --release $(if $(FEATURES),--features $(FEATURES))

iso: kernel
	tools/mkiso $(KERNEL) $(ISO)
	@echo "built $(ISO) ($$(du -h $(ISO) | cut -f1))"

run: iso
	tools/qemu.py run --firmware bios $(ISO)

run-uefi: iso
	tools/qemu.py run --firmware uefi $(ISO)

bench: iso
	tools/bench

debug: iso
	tools/qemu.py debug $(KERNEL) $(ISO)

test: iso
	$(SETUP)
	tools/test-all

clean:
	cargo clean
	rm -rf build

# Copies the chart of the last full `make bench` (build/bench.svg) to the
# tracked docs/bench.svg; make bench itself writes only under build/.
.PHONY: bench-docs
bench-docs:
	@test -f build/bench.svg || { echo "build/bench.svg is missing: run make bench first"; exit 1; }
	cp build/bench.svg docs/bench.svg
