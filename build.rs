//! Assembles `asm/*.asm` with nasm and links the objects into every kernel
//! binary (the kernel and each test kernel) with `linker.ld`.
//!
//! Only builds for the bare-metal target (`target_os = "none"`) need this;
//! host builds of the library (unit tests) skip it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let asm_dir = manifest_dir.join("asm");
    let linker_script = manifest_dir.join("linker.ld");
    println!("cargo:rerun-if-changed={}", asm_dir.display());
    println!("cargo:rerun-if-changed={}", linker_script.display());

    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&asm_dir)
        .expect("asm/ is readable")
        .map(|entry| entry.expect("asm/ entry is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "asm"))
        .collect();
    sources.sort();

    for source in &sources {
        let object = assemble(source, &asm_dir, &out_dir);
        println!("cargo:rerun-if-changed={}", source.display());
        println!("cargo:rustc-link-arg={}", object.display());
    }
    println!("cargo:rustc-link-arg=-T{}", linker_script.display());
    // Keep the file small: no padding of file offsets to page boundaries.
    println!("cargo:rustc-link-arg=--nmagic");
}

/// Runs nasm on one source file and returns the object's path.
fn assemble(source: &Path, include_dir: &Path, out_dir: &Path) -> PathBuf {
    let stem = source.file_stem().expect("source has a name");
    let object = out_dir.join(stem).with_extension("o");
    let mut include = include_dir.as_os_str().to_owned();
    include.push("/");
    let status = Command::new("nasm")
        .args(["-f", "elf64", "-w+all", "-I"])
        .arg(&include)
        .arg("-o")
        .arg(&object)
        .arg(source)
        .status();
    match status {
        Ok(status) if status.success() => object,
        Ok(status) => panic!("nasm failed on {} ({status})", source.display()),
        Err(err) => panic!(
            "cannot run nasm ({err}). Install it with `tools/setup` or `sudo apt-get install nasm`."
        ),
    }
}
