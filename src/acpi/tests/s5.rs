//! The `\_S5` scanner over AML bytes.

use std::vec::Vec;

use crate::acpi::sleep_object::{S5Error, SleepTypes, find_s5};

/// Other AML around the object, so the scanner must find it.
fn around(object: &[u8]) -> Vec<u8> {
    // Scope (\_SB) { } with some bytes, before and after.
    let mut aml = vec![
        0x10, 0x0a, b'\\', b'_', b'S', b'B', b'_', 0x5b, 0x80, 1, 2, 3,
    ];
    aml.extend_from_slice(object);
    aml.extend_from_slice(&[0x14, 0x08, b'_', b'P', b'T', b'S', 0x01, 0x70, 0x68, 0x60]);
    aml
}

#[test]
fn qemu_encoding_with_zero_ops() {
    // QEMU: Name (_S5, Package (4) { Zero, Zero, Zero, Zero }).
    let aml = around(&[0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0, 0, 0]);
    assert_eq!(find_s5(&aml), Ok(SleepTypes { a: 0, b: 0 }));
}

#[test]
fn root_prefix_and_byte_prefixes() {
    // Name (\_S5, Package (2) { 0x05, 0x07 }).
    let aml = around(&[
        0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x07,
    ]);
    assert_eq!(find_s5(&aml), Ok(SleepTypes { a: 5, b: 7 }));
}

#[test]
fn parent_prefix_one_op_word_prefix_and_a_two_byte_length() {
    // Name (^_S5, Package { One, Word 0x0006, ... }) with PkgLength 0x4N NN.
    let mut object = vec![0x08, b'^', b'_', b'S', b'5', b'_', 0x12];
    let body = [0x03, 0x01, 0x0b, 0x06, 0x00, 0x00];
    let length = 2 + body.len(); // the two PkgLength bytes and the body
    object.extend_from_slice(&[0x40 | (length & 0xf) as u8, (length >> 4) as u8]);
    object.extend_from_slice(&body);
    assert_eq!(find_s5(&around(&object)), Ok(SleepTypes { a: 1, b: 6 }));
}

#[test]
fn a_reference_before_the_definition_is_skipped() {
    // Store (_S5_, Local0) somewhere, then the real Name.
    let mut aml = vec![0x70, b'_', b'S', b'5', b'_', 0x60];
    aml.extend_from_slice(&[
        0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x01, 0x0a, 0x02,
    ]);
    assert_eq!(find_s5(&aml), Ok(SleepTypes { a: 1, b: 2 }));
}

#[test]
fn a_truncated_table_is_reported() {
    // The package claims 6 bytes; the table ends after 4.
    let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0];
    assert_eq!(find_s5(&aml), Err(S5Error::Truncated));
    // A byte prefix with its byte cut off.
    let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x04, 0x02, 0x00, 0x0a];
    assert_eq!(find_s5(&aml), Err(S5Error::Truncated));
    // The name at the very end.
    let aml = [0x08, b'_', b'S', b'5', b'_'];
    assert_eq!(find_s5(&aml), Err(S5Error::Truncated));
}

#[test]
fn no_s5_at_all() {
    assert_eq!(find_s5(&around(&[])), Err(S5Error::NotFound));
    assert_eq!(find_s5(&[]), Err(S5Error::NotFound));
}

#[test]
fn a_method_is_not_a_package() {
    // Method (_S5, 0) { Return (Package { 5, 5 }) }
    let aml = around(&[
        0x14, 0x0d, b'_', b'S', b'5', b'_', 0x00, 0xa4, 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05,
    ]);
    assert_eq!(find_s5(&aml), Err(S5Error::Method));
}

#[test]
fn values_that_are_not_small_integer_constants() {
    // Name (_S5, 5): not a package.
    let aml = [0x08, b'_', b'S', b'5', b'_', 0x0a, 0x05];
    assert_eq!(find_s5(&aml), Err(S5Error::NotAPackage));
    // No elements.
    let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x02, 0x00];
    assert_eq!(find_s5(&aml), Err(S5Error::TooFewElements(0)));
    // SLP_TYP has three bits.
    let aml = [
        0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x0a, 0x09, 0x00,
    ];
    assert_eq!(find_s5(&aml), Err(S5Error::OutOfRange(9)));
    // A name where an integer should be.
    let aml = [
        0x08, b'_', b'S', b'5', b'_', 0x12, 0x07, 0x02, b'A', b'B', b'C', b'D', 0,
    ];
    assert_eq!(find_s5(&aml), Err(S5Error::NotAnInteger(b'A')));
}

#[test]
fn a_method_whose_length_byte_is_name_op() {
    // Method (_S5, 0) { Return (Zero) }: PkgLength 8 encodes as 0x08.
    let aml = around(&[0x14, 0x08, b'_', b'S', b'5', b'_', 0x00, 0xa4, 0x00]);
    assert_eq!(find_s5(&aml), Err(S5Error::Method));
}

#[test]
fn one_integer_holds_both_values() {
    // Name (_S5, Package (1) { 0x0605 }): SLP_TYPa in the low byte,
    // SLP_TYPb in the next.
    let aml = around(&[
        0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x01, 0x0b, 0x05, 0x06,
    ]);
    assert_eq!(find_s5(&aml), Ok(SleepTypes { a: 5, b: 6 }));
    // Package (1) { Zero }.
    let aml = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x03, 0x01, 0x00];
    assert_eq!(find_s5(&aml), Ok(SleepTypes { a: 0, b: 0 }));
    // The high byte out of range.
    let aml = [
        0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x01, 0x0b, 0x05, 0x09,
    ];
    assert_eq!(find_s5(&aml), Err(S5Error::OutOfRange(9)));
}
