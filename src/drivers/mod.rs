//! Device drivers. Each module owns its device's I/O ports; nothing outside
//! a driver touches them.

pub mod pit;
pub mod serial;
pub mod vga_text;
