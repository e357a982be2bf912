# Pyrite's entry points. Each target installs what it needs first (tools/setup).
# FEATURES=heap-crate (or heap-bump, heap-linked-list) picks another heap design.
FEATURES ?=
KERNEL := target/x86_64-unknown-none/release/pyrite
ISO    := build/pyrite.iso
# make debug's kernel: cargo's dev profile (no optimisation, full debug
# information), so gdb shows every variable and steps line by line.
DEBUG_KERNEL := target/x86_64-unknown-none/debug/pyrite
DEBUG_ISO    := build/pyrite-debug.iso
SETUP  := @PYRITE_SETUP_QUIET=1 tools/setup

.PHONY: all iso run run-uefi test bench debug debug-iso clean kernel setup

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

debug-iso:
	$(SETUP)
	cargo build $(if $(FEATURES),--features $(FEATURES))
	tools/mkiso $(DEBUG_KERNEL) $(DEBUG_ISO)

debug: debug-iso
	tools/qemu.py debug $(DEBUG_KERNEL) $(DEBUG_ISO)

test: iso debug-iso
	$(SETUP)
	tools/test-all

clean:
	cargo clean
	rm -rf build
