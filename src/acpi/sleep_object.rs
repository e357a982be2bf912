//! Finds the `\_S5` object in AML bytes (the DSDT's or an SSDT's body) and
//! reads the two values the S5 (soft off) state writes to SLP_TYP.
//!
//! A full AML interpreter is out of reach on a stable compiler (the `aml`
//! crate needs a nightly one), and `_S5` is nearly always a plain
//! `Name (_S5, Package () { a, b, ... })` (or, in the older encoding, a
//! package of one integer holding both): this scanner looks for exactly
//! that encoding (ACPI 6.5 section 20.2: NameOp, NameString, PackageOp,
//! PkgLength, NumElements, then data objects) and checks every length
//! against the end of the bytes. A `_S5` it cannot read that way (a method,
//! a computed value) is reported, not guessed.

use core::fmt;

const NAME_OP: u8 = 0x08;
const METHOD_OP: u8 = 0x14;
const PACKAGE_OP: u8 = 0x12;
const ROOT_CHAR: u8 = b'\\';
const PARENT_PREFIX: u8 = b'^';
const ZERO_OP: u8 = 0x00;
const ONE_OP: u8 = 0x01;
const BYTE_PREFIX: u8 = 0x0a;
const WORD_PREFIX: u8 = 0x0b;
const DWORD_PREFIX: u8 = 0x0c;
const QWORD_PREFIX: u8 = 0x0e;
const NAME: &[u8; 4] = b"_S5_";

/// SLP_TYP is a 3-bit field of PM1 control.
const SLP_TYP_MAX: u64 = 0b111;

/// The S5 values for PM1a's and PM1b's SLP_TYP fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepTypes {
    /// SLP_TYPa.
    pub a: u8,
    /// SLP_TYPb.
    pub b: u8,
}

/// Why no S5 values were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S5Error {
    /// No `Name (_S5, ...)` in the bytes.
    NotFound,
    /// `_S5` is defined as a method: only an interpreter could run it.
    Method,
    /// `_S5` is named, but its value is not a package.
    NotAPackage,
    /// The package runs past the end of the bytes.
    Truncated,
    /// The package is empty.
    TooFewElements(u8),
    /// An element is not an integer constant (its opcode).
    NotAnInteger(u8),
    /// An element does not fit SLP_TYP's three bits.
    OutOfRange(u64),
}

impl fmt::Display for S5Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotFound => f.write_str("no \\_S5 object in the DSDT or SSDTs"),
            Self::Method => f.write_str("\\_S5 is a method, which needs an AML interpreter"),
            Self::NotAPackage => f.write_str("\\_S5 is not a package"),
            Self::Truncated => f.write_str("\\_S5's package runs past the end of its table"),
            Self::TooFewElements(n) => write!(f, "\\_S5's package has {n} elements"),
            Self::NotAnInteger(op) => write!(
                f,
                "\\_S5's package holds opcode {op:#04x}, not an integer constant"
            ),
            Self::OutOfRange(v) => write!(f, "\\_S5 gives SLP_TYP {v}, beyond 3 bits"),
        }
    }
}

/// Finds `_S5` in `aml` and reads its first two elements.
pub fn find_s5(aml: &[u8]) -> Result<SleepTypes, S5Error> {
    let mut from = 0;
    while let Some(found) = find_name(aml, from) {
        let start = name_start(aml, found);
        // Method first: a method's one-byte PkgLength may be 0x08, which is
        // also NameOp.
        if is_method_name(aml, start) {
            return Err(S5Error::Method);
        }
        if start > 0 && aml[start - 1] == NAME_OP {
            return read_package(aml, found + NAME.len());
        }
        // A reference to _S5_ elsewhere (or bytes that merely look like
        // it): keep looking.
        from = found + 1;
    }
    Err(S5Error::NotFound)
}

/// The next position of `_S5_` at or after `from`.
fn find_name(aml: &[u8], from: usize) -> Option<usize> {
    aml.get(from..)?
        .windows(NAME.len())
        .position(|w| w == NAME)
        .map(|at| from + at)
}

/// Where the NameString holding the segment at `segment` starts: before a
/// root character or any parent prefixes.
fn name_start(aml: &[u8], segment: usize) -> usize {
    let mut start = segment;
    if start > 0 && aml[start - 1] == ROOT_CHAR {
        return start - 1;
    }
    while start > 0 && aml[start - 1] == PARENT_PREFIX {
        start -= 1;
    }
    start
}

/// Whether the NameString at `start` follows MethodOp PkgLength.
fn is_method_name(aml: &[u8], start: usize) -> bool {
    (1..=4).any(|len| {
        start > len
            && aml[start - len - 1] == METHOD_OP
            && pkg_length(&aml[start - len..]).is_some_and(|(_, used)| used == len)
    })
}

/// Decodes a PkgLength (ACPI 6.5 section 20.2.4): the value, and how many
/// bytes its encoding took.
fn pkg_length(bytes: &[u8]) -> Option<(usize, usize)> {
    let lead = *bytes.first()?;
    let follow = usize::from(lead >> 6);
    if follow == 0 {
        return Some((usize::from(lead & 0x3f), 1));
    }
    let mut value = usize::from(lead & 0x0f);
    for i in 0..follow {
        value |= usize::from(*bytes.get(1 + i)?) << (4 + 8 * i);
    }
    Some((value, 1 + follow))
}

/// Reads the package that should start at `at` (after the name).
fn read_package(aml: &[u8], at: usize) -> Result<SleepTypes, S5Error> {
    match aml.get(at) {
        Some(&PACKAGE_OP) => {}
        Some(_) => return Err(S5Error::NotAPackage),
        None => return Err(S5Error::Truncated),
    }
    let (length, used) = pkg_length(&aml[at + 1..]).ok_or(S5Error::Truncated)?;
    // PkgLength counts itself and what follows it.
    let end = (at + 1)
        .checked_add(length)
        .filter(|&end| end <= aml.len() && length > used)
        .ok_or(S5Error::Truncated)?;
    let body = &aml[at + 1 + used..end];
    let (&count, rest) = body.split_first().ok_or(S5Error::Truncated)?;
    if count == 0 {
        return Err(S5Error::TooFewElements(count));
    }
    let (first, rest) = integer(rest)?;
    let (a, b) = if count == 1 {
        // One integer holds both, SLP_TYPa in bits 0-7 and SLP_TYPb in
        // bits 8-15 (the older encoding, which ACPICA also accepts).
        (first & 0xff, (first >> 8) & 0xff)
    } else {
        (first, integer(rest)?.0)
    };
    Ok(SleepTypes {
        a: slp_typ(a)?,
        b: slp_typ(b)?,
    })
}

/// A value as SLP_TYP, if it fits the field's three bits.
fn slp_typ(value: u64) -> Result<u8, S5Error> {
    u8::try_from(value)
        .ok()
        .filter(|&v| u64::from(v) <= SLP_TYP_MAX)
        .ok_or(S5Error::OutOfRange(value))
}

/// Decodes an integer constant, returning it and the bytes after it.
fn integer(bytes: &[u8]) -> Result<(u64, &[u8]), S5Error> {
    let (&op, rest) = bytes.split_first().ok_or(S5Error::Truncated)?;
    let width = match op {
        ZERO_OP => return Ok((0, rest)),
        ONE_OP => return Ok((1, rest)),
        BYTE_PREFIX => 1,
        WORD_PREFIX => 2,
        DWORD_PREFIX => 4,
        QWORD_PREFIX => 8,
        other => return Err(S5Error::NotAnInteger(other)),
    };
    let data = rest.get(..width).ok_or(S5Error::Truncated)?;
    let value = data
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    Ok((value, &rest[width..]))
}
