//! Asks for a name on standard input and greets it: reads the console a
//! line at a time through `read(0, ...)`. Exits with 0, or 1 at end of
//! file.
#![no_std]
#![no_main]

use pyrite_rt::{print, println, sys};

pyrite_rt::main!(main);

fn main(_: &pyrite_rt::Env) -> i32 {
    print!("name? ");
    let mut buf = [0u8; 128];
    let mut len = 0;
    while len < buf.len() {
        match sys::read(0, &mut buf[len..]) {
            Ok(0) | Err(_) => {
                println!("(end of input)");
                return 1;
            }
            Ok(n) => {
                len += n;
                if buf[..len].ends_with(b"\n") {
                    break;
                }
            }
        }
    }
    let name = core::str::from_utf8(&buf[..len]).unwrap_or("?").trim_end();
    println!("hello, {name}!");
    0
}
