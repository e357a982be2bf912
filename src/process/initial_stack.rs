//! The System V initial stack (AMD64 ABI, 3.4.1): what a program finds at
//! `rsp` when it starts. Built as bytes by a pure function (tested on the
//! host), then copied into the program's stack by the loader.
//!
//! From `rsp` upwards: argc; the argv pointers and a NULL; the envp
//! pointers and a NULL; the auxiliary vector's (type, value) pairs, ending
//! with AT_NULL; padding; the 16 bytes AT_RANDOM points at; the argument
//! and environment strings; 8 zero bytes at the top. `rsp` is 16-byte
//! aligned, as the ABI requires at process entry.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Auxiliary vector types (Linux's numbers).
pub mod auxv {
    /// The end of the vector.
    pub const AT_NULL: u64 = 0;
    /// The program headers' address in memory.
    pub const AT_PHDR: u64 = 3;
    /// The size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// How many program headers.
    pub const AT_PHNUM: u64 = 5;
    /// The page size.
    pub const AT_PAGESZ: u64 = 6;
    /// The program's entry point.
    pub const AT_ENTRY: u64 = 9;
    /// The address of 16 random bytes (stack protector and hash seeds).
    pub const AT_RANDOM: u64 = 25;
}

/// Why an initial stack could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// The arguments and environment need more than the stack allows.
    TooLarge {
        /// The bytes they need.
        needed: u64,
        /// The most the stack gives them.
        limit: u64,
    },
    /// An argument or environment string has a NUL byte.
    NulInString,
    /// The top of the stack is not 16-byte aligned.
    MisalignedTop,
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { needed, limit } => write!(
                f,
                "the arguments and environment need {needed} bytes of stack; at most {limit}"
            ),
            Self::NulInString => write!(f, "an argument or environment string has a NUL byte"),
            Self::MisalignedTop => write!(f, "the stack top is not 16-byte aligned"),
        }
    }
}

/// What goes on a program's initial stack.
#[derive(Debug, Clone, Copy)]
pub struct StackContents<'a> {
    /// The arguments, the program's name first.
    pub argv: &'a [&'a [u8]],
    /// The environment's `NAME=value` strings.
    pub envp: &'a [&'a [u8]],
    /// Auxiliary vector entries; AT_RANDOM and AT_NULL are added.
    pub aux: &'a [(u64, u64)],
    /// The bytes AT_RANDOM points at.
    pub random: [u8; 16],
}

/// The initial stack's bytes: they lie from `stack_pointer` up to the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImage {
    /// `rsp` at entry, 16-byte aligned.
    pub stack_pointer: u64,
    /// The bytes from `stack_pointer` to the top.
    pub bytes: Vec<u8>,
}

/// Lays out `contents` below `top`, in at most `limit` bytes.
pub fn build(top: u64, contents: &StackContents<'_>, limit: u64) -> Result<StackImage, StackError> {
    if !top.is_multiple_of(16) {
        return Err(StackError::MisalignedTop);
    }
    let strings = contents.argv.iter().chain(contents.envp);
    if strings.clone().any(|s| s.contains(&0)) {
        return Err(StackError::NulInString);
    }
    let string_bytes: u64 = strings.map(|s| s.len() as u64 + 1).sum();
    // Pointers: argc, argv + NULL, envp + NULL, aux + AT_RANDOM + AT_NULL.
    let words =
        1 + (contents.argv.len() + 1) + (contents.envp.len() + 1) + 2 * (contents.aux.len() + 2);
    // An upper bound: the top's zero word, the strings, the random bytes,
    // the pointers, and up to 15 bytes of padding at each of two alignments.
    let needed = 8 + string_bytes + 16 + 8 * words as u64 + 30;
    if needed > limit || needed > top {
        return Err(StackError::TooLarge { needed, limit });
    }
    let random_at = (top - 8 - string_bytes - 16) & !15;
    let stack_pointer = (random_at - 8 * words as u64) & !15;
    let mut image = Writer {
        base: stack_pointer,
        bytes: vec![0; (top - stack_pointer) as usize],
    };
    image.put(random_at, &contents.random);

    // The strings, from just above the random bytes up.
    let mut next_string = random_at + 16;
    let mut place = |image: &mut Writer, s: &[u8]| {
        let at = next_string;
        image.put(at, s);
        next_string += s.len() as u64 + 1;
        at
    };
    let mut words_out: Vec<u64> = Vec::with_capacity(words);
    words_out.push(contents.argv.len() as u64);
    for arg in contents.argv {
        words_out.push(place(&mut image, arg));
    }
    words_out.push(0);
    for var in contents.envp {
        words_out.push(place(&mut image, var));
    }
    words_out.push(0);
    for &(key, value) in contents.aux {
        words_out.extend([key, value]);
    }
    words_out.extend([auxv::AT_RANDOM, random_at, auxv::AT_NULL, 0]);
    for (i, word) in words_out.iter().enumerate() {
        image.put(stack_pointer + 8 * i as u64, &word.to_le_bytes());
    }
    Ok(StackImage {
        stack_pointer,
        bytes: image.bytes,
    })
}

/// Bytes that stand for memory from `base` up.
struct Writer {
    base: u64,
    bytes: Vec<u8>,
}

impl Writer {
    fn put(&mut self, addr: u64, data: &[u8]) {
        let at = (addr - self.base) as usize;
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: u64 = 0x7fff_ffff_f000;
    const LIMIT: u64 = 64 * 1024;

    /// Reads the image as the program would.
    struct Reader<'a>(&'a StackImage);

    impl Reader<'_> {
        fn word(&self, addr: u64) -> u64 {
            let at = (addr - self.0.stack_pointer) as usize;
            u64::from_le_bytes(self.0.bytes[at..at + 8].try_into().unwrap())
        }
        fn string(&self, addr: u64) -> &[u8] {
            let at = (addr - self.0.stack_pointer) as usize;
            let len = self.0.bytes[at..].iter().position(|&b| b == 0).unwrap();
            &self.0.bytes[at..at + len]
        }
        /// The strings of the NULL-ended array at `addr`, and the address
        /// past its NULL.
        fn strings(&self, mut addr: u64) -> (Vec<&[u8]>, u64) {
            let mut out = Vec::new();
            loop {
                let p = self.word(addr);
                addr += 8;
                if p == 0 {
                    return (out, addr);
                }
                assert!((self.0.stack_pointer..TOP).contains(&p), "{p:#x}");
                out.push(self.string(p));
            }
        }
    }

    fn contents<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]]) -> StackContents<'a> {
        StackContents {
            argv,
            envp,
            aux: &[(auxv::AT_PAGESZ, 4096), (auxv::AT_ENTRY, 0x401000)],
            random: *b"0123456789abcdef",
        }
    }

    #[test]
    fn a_program_reads_back_what_was_laid_out() {
        let argv: &[&[u8]] = &[b"/bin/hello", b"a", b"", b"long argument"];
        let envp: &[&[u8]] = &[b"PATH=/bin", b"TERM=pyrite"];
        let image = build(TOP, &contents(argv, envp), LIMIT).unwrap();
        let sp = image.stack_pointer;
        assert_eq!(sp % 16, 0, "rsp is 16-byte aligned at entry");
        assert_eq!(sp + image.bytes.len() as u64, TOP);
        let read = Reader(&image);
        assert_eq!(read.word(sp), argv.len() as u64);
        let (args, after) = read.strings(sp + 8);
        assert_eq!(args, argv);
        assert_eq!(after, sp + 8 * (1 + argv.len() as u64 + 1));
        let (vars, mut aux_at) = read.strings(after);
        assert_eq!(vars, envp);
        let mut aux = Vec::new();
        loop {
            let (key, value) = (read.word(aux_at), read.word(aux_at + 8));
            aux_at += 16;
            aux.push((key, value));
            if key == auxv::AT_NULL {
                break;
            }
        }
        assert_eq!(
            &aux[..2],
            &[(auxv::AT_PAGESZ, 4096), (auxv::AT_ENTRY, 0x401000)]
        );
        assert_eq!(aux[2].0, auxv::AT_RANDOM);
        assert_eq!(aux[3], (auxv::AT_NULL, 0));
        let random = aux[2].1;
        let at = (random - sp) as usize;
        assert_eq!(&image.bytes[at..at + 16], b"0123456789abcdef");
        // The pointer block ends below the random bytes and the strings.
        assert!(aux_at <= random);
        assert_eq!(read.word(TOP - 8), 0);
    }

    #[test]
    fn alignment_holds_for_every_string_length() {
        for extra in 0..40 {
            let arg = vec![b'x'; extra];
            let argv: &[&[u8]] = &[b"p", &arg];
            for envc in 0..3 {
                let envp: Vec<&[u8]> = (0..envc).map(|_| &b"A=1"[..]).collect();
                let image = build(TOP, &contents(argv, &envp), LIMIT).unwrap();
                assert_eq!(image.stack_pointer % 16, 0);
                let read = Reader(&image);
                let (args, after) = read.strings(image.stack_pointer + 8);
                assert_eq!(args, argv);
                assert_eq!(read.strings(after).0, envp);
            }
        }
    }

    #[test]
    fn no_arguments_at_all() {
        let image = build(TOP, &contents(&[], &[]), LIMIT).unwrap();
        let read = Reader(&image);
        assert_eq!(read.word(image.stack_pointer), 0);
        assert_eq!(read.word(image.stack_pointer + 8), 0);
        assert_eq!(read.word(image.stack_pointer + 16), 0);
    }

    #[test]
    fn bad_contents_are_refused() {
        assert_eq!(
            build(TOP, &contents(&[b"a\0b"], &[]), LIMIT),
            Err(StackError::NulInString)
        );
        assert_eq!(
            build(TOP, &contents(&[], &[b"X=\0"]), LIMIT),
            Err(StackError::NulInString)
        );
        assert_eq!(
            build(TOP + 8, &contents(&[], &[]), LIMIT),
            Err(StackError::MisalignedTop)
        );
        let big = vec![b'x'; LIMIT as usize];
        let argv: &[&[u8]] = &[&big];
        assert!(matches!(
            build(TOP, &contents(argv, &[]), LIMIT),
            Err(StackError::TooLarge { limit: LIMIT, .. })
        ));
        // Near the bottom of memory, too large is an error, not an overflow.
        assert!(matches!(
            build(64, &contents(&[b"abc"], &[]), LIMIT),
            Err(StackError::TooLarge { .. })
        ));
    }
}
