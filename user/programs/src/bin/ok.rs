//! Does nothing and exits with status 0: the smallest process, for
//! starting many (`launch -n 1000 ok`).
#![no_std]
#![no_main]

pyrite_rt::main!(main);

fn main(_env: &pyrite_rt::Env) -> i32 {
    0
}
