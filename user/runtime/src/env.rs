//! What the kernel hands a program on its initial stack: argc, the argv
//! and envp pointer arrays (each ending with NULL), then the auxiliary
//! vector of (type, value) pairs ending with AT_NULL.

use core::ffi::{CStr, c_char};

/// One auxiliary vector entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxEntry {
    /// Its type (`AT_*`).
    pub key: u64,
    /// Its value.
    pub value: u64,
}

/// The auxiliary vector's types the runtime names (Linux's numbers).
pub mod at {
    /// The end of the vector.
    pub const NULL: u64 = 0;
    /// The program headers' address.
    pub const PHDR: u64 = 3;
    /// The size of one program header.
    pub const PHENT: u64 = 4;
    /// How many program headers.
    pub const PHNUM: u64 = 5;
    /// The page size.
    pub const PAGESZ: u64 = 6;
    /// The program's entry point.
    pub const ENTRY: u64 = 9;
    /// The address of 16 random bytes.
    pub const RANDOM: u64 = 25;

    /// The name of type `key`, if the runtime knows it.
    pub fn name(key: u64) -> Option<&'static str> {
        Some(match key {
            NULL => "AT_NULL",
            PHDR => "AT_PHDR",
            PHENT => "AT_PHENT",
            PHNUM => "AT_PHNUM",
            PAGESZ => "AT_PAGESZ",
            ENTRY => "AT_ENTRY",
            RANDOM => "AT_RANDOM",
            _ => return None,
        })
    }
}

/// The program's arguments, environment and auxiliary vector, read in
/// place from the initial stack.
#[derive(Debug)]
pub struct Env {
    argc: usize,
    argv: *const *const c_char,
    envp: *const *const c_char,
    auxv: *const u64,
}

/// The strings of a NULL-terminated pointer array.
///
/// # Safety
/// `array` must be such an array of C strings, alive for the program's run.
unsafe fn strings(array: *const *const c_char) -> impl Iterator<Item = &'static [u8]> {
    (0..)
        // SAFETY: the array ends with NULL, where the iteration stops.
        .map(move |i| unsafe { *array.add(i) })
        .take_while(|p| !p.is_null())
        // SAFETY: each pointer before the NULL is a C string.
        .map(|p| unsafe { CStr::from_ptr(p) }.to_bytes())
}

impl Env {
    /// Reads the initial stack at `stack`.
    ///
    /// # Safety
    /// `stack` must point at a System V initial stack that stays in place
    /// for the program's whole run.
    pub unsafe fn from_initial_stack(stack: *const u64) -> Self {
        // SAFETY: argc, then argc pointers and a NULL, then the environment
        // up to its NULL, then the auxiliary vector: the caller's promise.
        unsafe {
            let argc = *stack as usize;
            let argv = stack.add(1) as *const *const c_char;
            let envp = argv.add(argc + 1);
            let mut end = envp;
            while !(*end).is_null() {
                end = end.add(1);
            }
            Self {
                argc,
                argv,
                envp,
                auxv: end.add(1) as *const u64,
            }
        }
    }

    /// How many arguments (the program's name counts).
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// The arguments, the program's name first.
    pub fn args(&self) -> impl Iterator<Item = &'static [u8]> {
        // SAFETY: read from the initial stack (from_initial_stack).
        unsafe { strings(self.argv) }.take(self.argc)
    }

    /// The environment's `NAME=value` strings.
    pub fn vars(&self) -> impl Iterator<Item = &'static [u8]> {
        // SAFETY: read from the initial stack (from_initial_stack).
        unsafe { strings(self.envp) }
    }

    /// The auxiliary vector, without its AT_NULL end.
    pub fn aux(&self) -> impl Iterator<Item = AuxEntry> {
        let auxv = self.auxv;
        (0..)
            // SAFETY: pairs up to AT_NULL, where the iteration stops.
            .map(move |i| unsafe {
                AuxEntry {
                    key: *auxv.add(2 * i),
                    value: *auxv.add(2 * i + 1),
                }
            })
            .take_while(|entry| entry.key != at::NULL)
    }

    /// The value of auxiliary vector entry `key`.
    pub fn aux_value(&self, key: u64) -> Option<u64> {
        self.aux().find(|e| e.key == key).map(|e| e.value)
    }
}
