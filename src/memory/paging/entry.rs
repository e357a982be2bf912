//! A page-table entry: a frame address and flags in one 64-bit word
//! (Intel SDM vol. 3, 4.5).

use bitflags::bitflags;
use x86_64::PhysAddr;

use crate::memory::frame::Frame;

bitflags! {
    /// The flag bits of a page-table entry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct EntryFlags: u64 {
        /// The entry maps something.
        const PRESENT = 1 << 0;
        /// Writes are allowed (if every level allows them).
        const WRITABLE = 1 << 1;
        /// User mode may access it.
        const USER_ACCESSIBLE = 1 << 2;
        /// Write-through caching.
        const WRITE_THROUGH = 1 << 3;
        /// No caching (for device memory).
        const NO_CACHE = 1 << 4;
        /// Set by the CPU on access.
        const ACCESSED = 1 << 5;
        /// Set by the CPU on write (leaf entries).
        const DIRTY = 1 << 6;
        /// In P3/P2: maps a 1 GiB/2 MiB page instead of pointing to a table.
        const HUGE_PAGE = 1 << 7;
        /// Kept in the TLB across CR3 switches.
        const GLOBAL = 1 << 8;
        /// Instruction fetches fault (needs EFER.NXE, set at boot).
        const NO_EXECUTE = 1 << 63;
    }
}

/// Bits 12..52 hold the frame's physical address.
const ADDRESS_MASK: u64 = 0x000F_FFFF_FFFF_F000;

/// One entry of a page table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Entry(u64);

impl Entry {
    /// An entry that maps nothing.
    pub const UNUSED: Entry = Entry(0);

    /// Whether the entry is all zero.
    pub fn is_unused(&self) -> bool {
        self.0 == 0
    }

    /// Clears the entry.
    pub fn set_unused(&mut self) {
        self.0 = 0;
    }

    /// The entry's flags.
    pub fn flags(&self) -> EntryFlags {
        EntryFlags::from_bits_truncate(self.0)
    }

    /// The frame the entry points to, if it is present.
    pub fn pointed_frame(&self) -> Option<Frame> {
        self.flags()
            .contains(EntryFlags::PRESENT)
            .then(|| Frame::containing(PhysAddr::new(self.0 & ADDRESS_MASK)))
    }

    /// The frame of the next-level table, if the entry points to one
    /// (present and not a huge page).
    pub fn table_frame(&self) -> Option<Frame> {
        if self.flags().contains(EntryFlags::HUGE_PAGE) {
            return None;
        }
        self.pointed_frame()
    }

    /// Points the entry at `frame` with `flags`.
    pub fn set(&mut self, frame: Frame, flags: EntryFlags) {
        let addr = frame.start_address().as_u64();
        debug_assert_eq!(addr & !ADDRESS_MASK, 0, "frame address beyond 52 bits");
        self.0 = addr | flags.bits();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_frame_and_flags() {
        let mut entry = Entry::UNUSED;
        assert!(entry.is_unused());
        assert_eq!(entry.pointed_frame(), None);
        let frame = Frame::from_number(0x12_3456);
        entry.set(
            frame,
            EntryFlags::PRESENT | EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE,
        );
        assert_eq!(entry.0, 0x8000_0001_2345_6003);
        assert_eq!(entry.pointed_frame(), Some(frame));
        assert_eq!(
            entry.flags(),
            EntryFlags::PRESENT | EntryFlags::WRITABLE | EntryFlags::NO_EXECUTE
        );
        entry.set_unused();
        assert!(entry.is_unused());
    }

    #[test]
    fn not_present_entries_point_nowhere() {
        let mut entry = Entry::UNUSED;
        entry.set(Frame::from_number(7), EntryFlags::WRITABLE);
        assert!(!entry.is_unused());
        assert_eq!(entry.pointed_frame(), None);
    }
}
