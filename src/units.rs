//! Human-readable quantities for the console.

use core::fmt;

/// A byte count shown in the largest binary unit that keeps it at least 1,
/// with one decimal unless it is a whole number of that unit: `639 KiB`,
/// `126.9 MiB`, `4 GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 4] = [
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ];
        let bytes = self.0;
        let Some(&(name, size)) = UNITS.iter().find(|&&(_, size)| bytes >= size) else {
            return write!(f, "{bytes} B");
        };
        let whole = bytes / size;
        let tenths = (bytes % size) * 10 / size;
        if bytes.is_multiple_of(size) {
            write!(f, "{whole} {name}")
        } else {
            write!(f, "{whole}.{tenths} {name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSize;
    use std::format;

    #[test]
    fn picks_the_largest_unit_and_one_decimal() {
        assert_eq!(format!("{}", ByteSize(0)), "0 B");
        assert_eq!(format!("{}", ByteSize(1023)), "1023 B");
        assert_eq!(format!("{}", ByteSize(1024)), "1 KiB");
        assert_eq!(format!("{}", ByteSize(0x9_fc00)), "639 KiB");
        assert_eq!(format!("{}", ByteSize(0x7ee_0000)), "126.8 MiB");
        assert_eq!(format!("{}", ByteSize(4 << 30)), "4 GiB");
        assert_eq!(format!("{}", ByteSize((1 << 30) + 1)), "1.0 GiB");
        assert_eq!(format!("{}", ByteSize(u64::MAX)), "16777215.9 TiB");
    }
}
