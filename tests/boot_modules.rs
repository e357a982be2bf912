//! Boots with a dozen boot modules of known content (the runner adds them:
//! tools/run-test-kernel) and checks that every one is listed, intact after
//! memory and heap set-up, and never handed out by the frame allocator.
#![no_std]
#![no_main]

use pyrite::boot::Module;
use pyrite::boot_info;
use pyrite::memory::{self, FrameAllocator};

pyrite::test_kernel!(
    every_module_is_listed,
    every_module_is_intact,
    no_free_frame_lies_in_a_module,
);

/// The module's number and how many the runner loaded, from its name
/// `/modNN-of-TT`.
fn number_and_total(module: &Module<'_>) -> (u64, u64) {
    let name = core::str::from_utf8(module.name.as_bytes()).expect("text name");
    let rest = name.strip_prefix("/mod").expect("runner's name");
    let (number, total) = rest.split_once("-of-").expect("runner's name");
    (number.parse().unwrap(), total.parse().unwrap())
}

/// Module `n`'s length and its byte at `offset`: the same rule as
/// `boot_module_pattern` in tools/run-test-kernel.
fn expected_len(n: u64) -> u64 {
    3000 + n * 1500
}

fn expected_byte(n: u64, offset: u64) -> u8 {
    ((n * 37 + offset * 13 + (offset >> 9)) & 0xff) as u8
}

fn every_module_is_listed() {
    let boot = boot_info().unwrap();
    let count = boot.modules().count() as u64;
    assert!(
        count > 8,
        "the runner loads more modules than the old limit"
    );
    let mut seen = 0u64;
    for module in boot.modules() {
        let (number, total) = number_and_total(&module);
        assert_eq!(total, count, "every module GRUB loaded is listed");
        assert!(number < total);
        assert_eq!(seen & (1 << number), 0, "module {number} listed twice");
        seen |= 1 << number;
    }
}

fn every_module_is_intact() {
    for module in boot_info().unwrap().modules() {
        let (n, _) = number_and_total(&module);
        assert_eq!(module.range.len(), expected_len(n), "module {n}'s length");
        // SAFETY: the remap keeps every module mapped read-only in the boot
        // data region, and nothing writes to it.
        let bytes = unsafe {
            core::slice::from_raw_parts(
                pyrite::memory::regions::boot_data_address(module.range.start).as_ptr::<u8>(),
                module.range.len() as usize,
            )
        };
        for (offset, &byte) in bytes.iter().enumerate() {
            assert_eq!(
                byte,
                expected_byte(n, offset as u64),
                "module {n} at {offset}"
            );
        }
    }
}

/// Takes every free frame (last test: they are not given back).
fn no_free_frame_lies_in_a_module() {
    let boot = boot_info().unwrap();
    let taken = memory::with(|mem| {
        let mut taken = 0u64;
        while let Some(frame) = mem.frames.allocate_frame() {
            let start = frame.start_address();
            for module in boot.modules() {
                let end = start + 4096u64;
                assert!(
                    end <= module.range.start || start >= module.range.end,
                    "frame {:#x} is in module {}",
                    start.as_u64(),
                    module.name
                );
            }
            taken += 1;
        }
        taken
    })
    .unwrap();
    assert!(taken > 0);
}
