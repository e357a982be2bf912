//! [`FileTree`]: a read-only tree of files, each a path and its bytes.
//! Directories are not stored: a directory exists because some file's path
//! runs through it. Pure logic, tested on the host.
//!
//! Names are checked when the tree is built; a name that is not a clean
//! absolute path, or that clashes with a file already in the tree, is
//! rejected with the reason, and the tree is built from the rest.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::boot::cmdline::Lossy;

/// The longest path the tree accepts, in bytes.
pub const MAX_PATH: usize = 255;

/// Why a name did not become a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name does not start with `/`.
    NotAbsolute,
    /// The name ends with `/` or has `//`.
    EmptyComponent,
    /// The name has a `.` or `..` component.
    DotComponent,
    /// The name has a byte that is not printable ASCII (a space included:
    /// the module line had words after the name).
    BadByte(u8),
    /// The name is longer than [`MAX_PATH`].
    TooLong,
    /// A file of this name is already in the tree.
    Duplicate,
    /// A file already in the tree is a directory on this path.
    ParentIsFile,
    /// Files already in the tree lie under this name, which is a directory.
    IsDirectory,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the name is empty"),
            Self::NotAbsolute => write!(f, "the name does not start with /"),
            Self::EmptyComponent => {
                write!(f, "the name has an empty component (// or a trailing /)")
            }
            Self::DotComponent => write!(f, "the name has a . or .. component"),
            Self::BadByte(b' ') => write!(f, "the name has a space (one word only)"),
            Self::BadByte(byte) => write!(f, "the name has the byte {byte:#04x}"),
            Self::TooLong => write!(f, "the name is longer than {MAX_PATH} bytes"),
            Self::Duplicate => write!(f, "a file of this name came earlier"),
            Self::ParentIsFile => write!(f, "a directory on its path is a file"),
            Self::IsDirectory => write!(f, "it is a directory of files that came earlier"),
        }
    }
}

/// A name that did not become a file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The name, shown lossily.
    pub name: String,
    /// What is wrong with it.
    pub problem: NameProblem,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\": {}", self.name, self.problem)
    }
}

/// Why a path could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// Nothing has this path.
    NotFound,
    /// The path names a directory where a file was asked for.
    IsADirectory,
    /// The path names a file where a directory was asked for.
    NotADirectory,
    /// The path has a `..` component or is too long.
    InvalidPath,
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotFound => "no such file or directory",
            Self::IsADirectory => "is a directory",
            Self::NotADirectory => "not a directory",
            Self::InvalidPath => "invalid path (.. is not supported)",
        })
    }
}

/// A file: its bytes, read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct File<'a> {
    data: &'a [u8],
}

impl<'a> File<'a> {
    /// All of its bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Copies bytes from `offset` into `buf`; returns how many (0 at or
    /// past the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let start = usize::try_from(offset).map_or(self.data.len(), |o| o.min(self.data.len()));
        let count = buf.len().min(self.data.len() - start);
        buf[..count].copy_from_slice(&self.data[start..start + count]);
        count
    }
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node<'a> {
    /// A file.
    File(File<'a>),
    /// A directory.
    Directory,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name within the directory.
    pub name: String,
    /// A file's size, or `None` for a directory.
    pub size: Option<u64>,
}

/// The tree. See the module docs.
#[derive(Debug, Default)]
pub struct FileTree<'a> {
    files: BTreeMap<String, File<'a>>,
}

/// Checks a module's name; returns it as a path.
fn check_name(name: &[u8]) -> Result<&str, NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.len() > MAX_PATH {
        return Err(NameProblem::TooLong);
    }
    if let Some(&byte) = name.iter().find(|&&b| !b.is_ascii_graphic()) {
        return Err(NameProblem::BadByte(byte));
    }
    // Printable ASCII is UTF-8.
    let name = core::str::from_utf8(name).map_err(|_| NameProblem::BadByte(0))?;
    let rest = name.strip_prefix('/').ok_or(NameProblem::NotAbsolute)?;
    for part in rest.split('/') {
        match part {
            "" => return Err(NameProblem::EmptyComponent),
            "." | ".." => return Err(NameProblem::DotComponent),
            _ => {}
        }
    }
    Ok(name)
}

/// `path` in the tree's form: `/` then components joined by `/`, without
/// empty or `.` components. Relative paths start at the root.
fn normalize(path: &str) -> Result<String, FsError> {
    let mut out = String::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(FsError::InvalidPath),
            part => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    if out.len() > MAX_PATH {
        return Err(FsError::InvalidPath);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The prefix every path under directory `dir` (normalized) starts with.
fn dir_prefix(dir: &str) -> String {
    if dir == "/" {
        String::from("/")
    } else {
        alloc::format!("{dir}/")
    }
}

impl<'a> FileTree<'a> {
    /// A tree of `files` (name, bytes), in order; the names that were
    /// rejected come back with the reason.
    pub fn build<'n>(
        files: impl IntoIterator<Item = (&'n [u8], &'a [u8])>,
    ) -> (Self, Vec<Rejected>) {
        let mut tree = Self::default();
        let mut rejected = Vec::new();
        for (name, data) in files {
            if let Err(problem) = tree.add(name, data) {
                rejected.push(Rejected {
                    name: Lossy(name).to_string(),
                    problem,
                });
            }
        }
        (tree, rejected)
    }

    fn add(&mut self, name: &[u8], data: &'a [u8]) -> Result<(), NameProblem> {
        let path = check_name(name)?;
        if self.files.contains_key(path) {
            return Err(NameProblem::Duplicate);
        }
        // Every proper prefix ending before a '/' is a directory.
        let parent_is_file = path
            .match_indices('/')
            .skip(1)
            .any(|(at, _)| self.files.contains_key(&path[..at]));
        if parent_is_file {
            return Err(NameProblem::ParentIsFile);
        }
        if self.is_directory(path) {
            return Err(NameProblem::IsDirectory);
        }
        self.files.insert(path.to_string(), File { data });
        Ok(())
    }

    /// Whether some file lies under `dir` (normalized).
    fn is_directory(&self, dir: &str) -> bool {
        let prefix = dir_prefix(dir);
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(path, _)| path.starts_with(&prefix))
    }

    /// How many files the tree holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the tree holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file, by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, File<'a>)> + '_ {
        self.files.iter().map(|(path, file)| (path.as_str(), *file))
    }

    /// What `path` names. The root is always a directory.
    pub fn lookup(&self, path: &str) -> Result<Node<'a>, FsError> {
        let path = normalize(path)?;
        if let Some(file) = self.files.get(&path) {
            Ok(Node::File(*file))
        } else if path == "/" || self.is_directory(&path) {
            Ok(Node::Directory)
        } else {
            Err(FsError::NotFound)
        }
    }

    /// The file at `path`.
    pub fn open(&self, path: &str) -> Result<File<'a>, FsError> {
        match self.lookup(path)? {
            Node::File(file) => Ok(file),
            Node::Directory => Err(FsError::IsADirectory),
        }
    }

    /// The entries of directory `dir`, sorted by name.
    pub fn list(&self, dir: &str) -> Result<Vec<DirEntry>, FsError> {
        if let Node::File(_) = self.lookup(dir)? {
            return Err(FsError::NotADirectory);
        }
        let prefix = dir_prefix(&normalize(dir)?);
        let mut entries: Vec<DirEntry> = Vec::new();
        let under = self
            .files
            .range(prefix.clone()..)
            .take_while(|(path, _)| path.starts_with(&prefix));
        for (path, file) in under {
            let rest = &path[prefix.len()..];
            let entry = match rest.split_once('/') {
                Some((dir, _)) => DirEntry {
                    name: dir.to_string(),
                    size: None,
                },
                None => DirEntry {
                    name: rest.to_string(),
                    size: Some(file.len()),
                },
            };
            // A directory's files are contiguous in path order.
            if entries.last() != Some(&entry) {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&'static str, &'static [u8])]) -> (FileTree<'static>, Vec<Rejected>) {
        FileTree::build(files.iter().map(|(name, data)| (name.as_bytes(), *data)))
    }

    #[test]
    fn files_are_found_by_path() {
        let (tree, rejected) = tree(&[("/bin/hello", b"ELF"), ("/etc/motd", b"hi\n")]);
        assert!(rejected.is_empty());
        assert_eq!(tree.len(), 2);
        assert_eq!(tree.open("/bin/hello").unwrap().bytes(), b"ELF");
        // Relative paths, repeated and trailing slashes and . are forgiven.
        assert_eq!(tree.open("etc//./motd").unwrap().bytes(), b"hi\n");
        assert_eq!(tree.lookup("/bin/"), Ok(Node::Directory));
        assert_eq!(tree.lookup("/"), Ok(Node::Directory));
        assert_eq!(tree.open("/bin"), Err(FsError::IsADirectory));
        assert_eq!(tree.open("/bin/hell"), Err(FsError::NotFound));
        assert_eq!(tree.open("/bi"), Err(FsError::NotFound));
        assert_eq!(tree.open("/bin/../etc/motd"), Err(FsError::InvalidPath));
    }

    #[test]
    fn reads_at_any_offset() {
        let (tree, _) = tree(&[("/f", b"0123456789")]);
        let file = tree.open("/f").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(file.read_at(0, &mut buf), 4);
        assert_eq!(&buf, b"0123");
        assert_eq!(file.read_at(8, &mut buf), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(file.read_at(10, &mut buf), 0);
        assert_eq!(file.read_at(u64::MAX, &mut buf), 0);
        assert_eq!(file.read_at(3, &mut []), 0);
    }

    #[test]
    fn directories_list_their_children_once() {
        let (tree, _) = tree(&[
            ("/bin/hello", b"12345"),
            ("/bin/args", b""),
            ("/bin/sub/x", b"x"),
            ("/bin/sub/y", b"y"),
            ("/bin/a-b", b"ab"),
            ("/top", b"t"),
        ]);
        let names = |dir| -> Vec<(String, Option<u64>)> {
            tree.list(dir)
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.size))
                .collect()
        };
        let s = |n: &str| n.to_string();
        assert_eq!(names("/"), [(s("bin"), None), (s("top"), Some(1))]);
        assert_eq!(
            names("/bin"),
            [
                (s("a-b"), Some(2)),
                (s("args"), Some(0)),
                (s("hello"), Some(5)),
                (s("sub"), None),
            ]
        );
        assert_eq!(names("bin/sub/"), [(s("x"), Some(1)), (s("y"), Some(1))]);
        assert_eq!(tree.list("/top"), Err(FsError::NotADirectory));
        assert_eq!(tree.list("/nope"), Err(FsError::NotFound));
        assert_eq!(FileTree::default().list("/"), Ok(Vec::new()));
    }

    #[test]
    fn bad_names_are_rejected_with_the_reason() {
        let long = "/".to_string() + &"a".repeat(MAX_PATH);
        let long: &'static str = std::boxed::Box::leak(long.into_boxed_str());
        let (tree, rejected) = tree(&[
            ("/bin/hello", b"1"),
            ("/bin/hello", b"2"),
            ("", b""),
            ("bin/x", b""),
            ("/bin//x", b""),
            ("/bin/", b""),
            ("/bin/./x", b""),
            ("/bin/../x", b""),
            ("/bin/x y", b""),
            ("/bin/\tx", b""),
            ("/bin/hello/more", b""),
            ("/bin", b""),
            (long, b""),
            ("/ok", b"ok"),
        ]);
        let problems: Vec<NameProblem> = rejected.iter().map(|r| r.problem).collect();
        assert_eq!(
            problems,
            [
                NameProblem::Duplicate,
                NameProblem::Empty,
                NameProblem::NotAbsolute,
                NameProblem::EmptyComponent,
                NameProblem::EmptyComponent,
                NameProblem::DotComponent,
                NameProblem::DotComponent,
                NameProblem::BadByte(b' '),
                NameProblem::BadByte(b'\t'),
                NameProblem::ParentIsFile,
                NameProblem::IsDirectory,
                NameProblem::TooLong,
            ]
        );
        // The first of two duplicates stays.
        assert_eq!(tree.open("/bin/hello").unwrap().bytes(), b"1");
        assert_eq!(tree.len(), 2);
        assert_eq!(
            std::format!("{}", rejected[7]),
            "\"/bin/x y\": the name has a space (one word only)"
        );
        let bytes = FileTree::build([(&b"/a\xff"[..], &b""[..])]).1;
        assert_eq!(bytes[0].problem, NameProblem::BadByte(0xff));
    }
}
