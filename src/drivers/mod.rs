//! Device drivers. Each module owns its device's I/O ports; nothing outside
//! a driver touches them.

pub mod framebuffer;
pub mod keyboard;
pub mod pci;
pub mod pit;
pub mod ps2;
pub mod rtc;
pub mod serial;
pub mod usb;
pub mod vga_text;
