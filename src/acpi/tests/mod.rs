//! Host tests of the ACPI code: tables built by hand in ordinary memory,
//! read through the same code the kernel runs.

mod fadt;
mod madt;
mod mcfg;
mod s5;
mod tables;

use std::vec::Vec;

/// A table: the 36-byte SDT header with `signature`, then `body`, with the
/// length and checksum filled in.
pub fn sdt(signature: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(36 + body.len());
    t.extend_from_slice(signature);
    t.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
    t.push(revision);
    t.push(0); // checksum, below
    t.extend_from_slice(b"PYRITE");
    t.extend_from_slice(b"TESTTABL");
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(b"PYRT");
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(body);
    fix_checksum(&mut t);
    t
}

/// Sets byte 9 so the table sums to zero.
pub fn fix_checksum(t: &mut [u8]) {
    t[9] = 0;
    let sum = t.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    t[9] = 0u8.wrapping_sub(sum);
}
