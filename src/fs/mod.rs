//! Files: the boot modules, served as a read-only file tree. Every
//! Multiboot2 module is a file named by its module command line
//! (`module2 /boot/bin/hello /bin/hello` gives `/bin/hello`).
//!
//! Its own module rather than a part of process/: programs are only one
//! kind of file (the shell's `cat` shows text modules, and the file system
//! calls will serve any of them), and the loader is one user of the tree
//! among several. It takes the modules from [`BootInfo`] and never writes
//! to them: the remap maps them read-only and the frame allocator never
//! hands their frames out.

mod tree;

use spin::Once;

pub use tree::{DirEntry, File, FileTree, FsError, MAX_PATH, NameProblem, Node, Rejected};

use crate::boot::BootInfo;
use crate::memory::regions;
use crate::units::ByteSize;

static FILES: Once<FileTree<'static>> = Once::new();

/// Builds the file tree from the boot modules, once (later calls return
/// the first tree), and logs names that were rejected. Needs the heap.
pub fn init(boot: &'static BootInfo<'static>) -> &'static FileTree<'static> {
    FILES.call_once(|| {
        let modules = boot.modules().map(|module| {
            // SAFETY: the remap keeps every module mapped read-only in the
            // boot data region for the kernel's whole run, and the frame
            // allocator never hands its frames out, so nothing writes there.
            let bytes = unsafe {
                core::slice::from_raw_parts(
                    regions::boot_data_address(module.range.start).as_ptr::<u8>(),
                    module.range.len() as usize,
                )
            };
            (module.name.as_bytes(), bytes)
        });
        let (tree, rejected) = FileTree::build(modules);
        for reject in &rejected {
            log::warn!("boot module {reject}; not served as a file");
        }
        let bytes: u64 = tree.files().map(|(_, file)| file.len()).sum();
        if tree.is_empty() && rejected.is_empty() {
            return tree;
        }
        log::info!(
            "{} files from boot modules ({}), {} rejected",
            tree.len(),
            ByteSize(bytes),
            rejected.len()
        );
        tree
    })
}

/// The file tree, once [`init`] has built it.
pub fn files() -> Option<&'static FileTree<'static>> {
    FILES.get()
}
