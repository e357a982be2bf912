//! Processes: programs running in ring 3, each in its own address space.
//! A program is a static ELF64 file in the file tree ([`crate::fs`]);
//! [`load`] checks it ([`elf`]), maps it into a new address space with a
//! stack and the System V initial stack ([`loader`], [`initial_stack`]);
//! [`spawn`] makes it a process ([`table`]) whose thread enters ring 3
//! ([`enter`]). The system calls (src/syscall/) reach user memory only
//! through [`user_access`]; `brk` and `mmap` memory is demand-zero
//! ([`memory`]); open files are in [`files`].
//!
//! **Starting and waiting.** The kernel (the shell's `run`) calls
//! [`spawn`] and [`wait`]. Programs start a program with Pyrite's own
//! `spawn` system call (number 1024, outside Linux's range: Linux's
//! x86-64 numbers stay below 512) and wait for it with Linux's `wait4`;
//! there is no `fork`/`execve`. Children a process does not wait for go on
//! after it ends and are reaped by the kernel ([`reap_orphans`]).
//!
//! The user half of a program's space:
//!
//! | address | what |
//! |---|---|
//! | `0x0000_0000_0000_0000` | page 0: never mapped |
//! | from `0x0000_0000_0000_1000` | the program's segments, where its ELF file puts them: anywhere above page 0 and below the stack's guard ([`loader::USER_IMAGE_RANGE`]); Pyrite's own programs are linked at `0x40_0000` (user/linker.ld) |
//! | after the last segment | the break (`brk`), demand-zero, up to 1 GiB ([`memory::MAX_BRK_BYTES`]) |
//! | `0x0000_1000_0000_0000`-`0x0000_7000_0000_0000` | `mmap` memory, demand-zero ([`memory::MMAP_BASE`]) |
//! | `0x0000_7fff_fffd_e000` | the stack's guard page: never mapped |
//! | `0x0000_7fff_fffd_f000` | the stack, 128 KiB, initial stack at its top |
//! | `0x0000_7fff_ffff_f000` | the top page of the lower half: never mapped |

pub mod console_input;
pub mod elf;
#[cfg(test)]
mod elf_tests;
pub mod enter;
pub mod fault;
pub mod files;
pub mod initial_stack;
pub mod loader;
pub mod memory;
pub mod table;
pub mod user_access;

pub use loader::{LoadError, LoadedImage, load_image};
pub use table::{
    ChildWait, ExitStatus, Pid, Process, SpawnError, Started, child_wait_is_ready, current,
    exit_current, find, kill, list, reap, reap_orphans, spawn, spawn_child, try_wait_child, wait,
};

/// Loads the program at `path` in the file tree, with `argv` (its name
/// first, by convention) and `envp`, into a new address space.
pub fn load(path: &str, argv: &[&[u8]], envp: &[&[u8]]) -> Result<LoadedImage, LoadError> {
    let files = crate::fs::files().ok_or(LoadError::File(crate::fs::FsError::NotFound))?;
    let file = files.open(path).map_err(LoadError::File)?;
    load_image(file.bytes(), argv, envp, random_bytes())
}

/// 16 bytes for AT_RANDOM: from RDRAND where the CPU has it, else from the
/// time stamp counter stirred by splitmix64 (unpredictable enough to seed
/// a hash table, not to make keys).
fn random_bytes() -> [u8; 16] {
    let mut out = [0u8; 16];
    let rdrand = x86_64::instructions::random::RdRand::new();
    let mut state = crate::arch::read_tsc();
    for half in out.chunks_exact_mut(8) {
        let word = rdrand.and_then(|r| r.get_u64()).unwrap_or_else(|| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        });
        half.copy_from_slice(&word.to_le_bytes());
    }
    out
}
