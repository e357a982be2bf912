//! Boot modules: the files GRUB loads next to the kernel
//! (`module2 /boot/FILE NAME` in grub.cfg). Programs arrive this way, so
//! every module must be kept, however many there are: [`Modules`] reads them
//! straight from the Multiboot2 tags, with no fixed-size copy to overflow.

use core::fmt;

use multiboot2::{TagIter, TagType};
use x86_64::PhysAddr;

use super::BootInfo;
use super::cmdline::CommandLine;
use crate::memory::PhysRange;
use crate::units::ByteSize;

/// One boot module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module<'a> {
    /// Where GRUB loaded it.
    pub range: PhysRange,
    /// Its name: the rest of the `module2` line (shown lossily if not text).
    pub name: CommandLine<'a>,
}

/// Every module tag of the boot information, in order.
#[derive(Clone)]
pub struct Modules<'a> {
    pub(super) tags: Option<TagIter<'a>>,
}

impl fmt::Debug for Modules<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// A module tag's payload (Multiboot2 spec 3.6.6): `mod_start` and `mod_end`
/// as 32-bit addresses, then the NUL-terminated name.
pub(super) fn module_from_payload(payload: &[u8]) -> Module<'_> {
    let word = |at: usize| {
        payload
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    };
    let start = u64::from(word(0));
    // An end before the start is a broken tag: keep the start, length 0.
    let end = u64::from(word(4)).max(start);
    Module {
        range: PhysRange::new(PhysAddr::new(start), PhysAddr::new(end)),
        name: CommandLine::from_nul_terminated(payload.get(8..).unwrap_or(&[])),
    }
}

impl<'a> Iterator for Modules<'a> {
    type Item = Module<'a>;

    fn next(&mut self) -> Option<Module<'a>> {
        let tags = self.tags.as_mut()?;
        tags.find(|tag| tag.header().typ.get() == TagType::Module.val())
            .map(|tag| module_from_payload(tag.payload()))
    }
}

/// Logs the boot modules: how many and how big in one line, then one short
/// line each (name, physical range, size).
pub fn log_modules(boot: &BootInfo<'_>) {
    let count = boot.modules().count();
    if count == 0 {
        log::debug!("boot modules: none");
        return;
    }
    let total: u64 = boot.modules().map(|m| m.range.len()).sum();
    log::info!("boot modules: {count}, {}, all kept:", ByteSize(total));
    for module in boot.modules() {
        log::info!(
            "  {} {} ({})",
            module.name,
            module.range,
            ByteSize(module.range.len())
        );
    }
}
