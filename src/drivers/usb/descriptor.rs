//! USB descriptors (USB 2.0 chapter 9.6): the device descriptor, and the
//! walk of a configuration descriptor's interfaces and endpoints. Pure
//! logic: every length is checked against the buffer, so a malformed
//! descriptor is an error, never a read past the data.

use core::fmt;

/// Descriptor types.
pub const DEVICE: u8 = 1;
/// Configuration descriptor type.
pub const CONFIGURATION: u8 = 2;
const INTERFACE: u8 = 4;
const ENDPOINT: u8 = 5;

/// HID class, boot sub-class, keyboard protocol.
pub const HID_CLASS: u8 = 3;
const BOOT_SUBCLASS: u8 = 1;
const KEYBOARD_PROTOCOL: u8 = 1;

/// Why a descriptor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorError {
    /// Fewer bytes than the descriptor's fixed part.
    Truncated,
    /// A descriptor says it is shorter than two bytes (a walk would not move).
    ZeroLength {
        /// Where in the buffer.
        offset: usize,
    },
    /// A descriptor's length runs past the data.
    PastEnd {
        /// Where in the buffer.
        offset: usize,
    },
    /// The type byte is not the one asked for.
    WrongType(u8),
    /// wTotalLength is shorter than the configuration header.
    BadTotalLength(u16),
    /// No boot keyboard interface with an interrupt-IN endpoint.
    NoKeyboard,
    /// bMaxPacketSize0 is not one the device's speed allows.
    BadPacketSize(u8),
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("descriptor truncated"),
            Self::ZeroLength { offset } => write!(f, "descriptor of length < 2 at byte {offset}"),
            Self::PastEnd { offset } => {
                write!(f, "descriptor at byte {offset} runs past the data")
            }
            Self::WrongType(t) => write!(f, "unexpected descriptor type {t}"),
            Self::BadTotalLength(n) => write!(f, "configuration total length {n} too short"),
            Self::BadPacketSize(n) => write!(f, "endpoint 0 packet size {n} not allowed"),
            Self::NoKeyboard => {
                f.write_str("no boot keyboard interface with an interrupt-IN endpoint")
            }
        }
    }
}

/// The fields of a device descriptor the kernel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceDescriptor {
    /// bcdUSB.
    pub usb_version: u16,
    /// Device class (0: per interface).
    pub class: u8,
    /// Sub-class.
    pub subclass: u8,
    /// Protocol.
    pub protocol: u8,
    /// Max packet size of endpoint 0 (for USB 3, an exponent of two).
    pub max_packet_size0: u8,
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
    /// Configurations.
    pub configurations: u8,
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// Reads the first 8 bytes' or the whole 18 bytes' fields: with 8 bytes only
/// `max_packet_size0` (and what precedes it) is meaningful.
pub fn parse_device(bytes: &[u8]) -> Result<DeviceDescriptor, DescriptorError> {
    if bytes.len() < 8 {
        return Err(DescriptorError::Truncated);
    }
    if bytes[1] != DEVICE {
        return Err(DescriptorError::WrongType(bytes[1]));
    }
    let mut d = DeviceDescriptor {
        usb_version: u16_at(bytes, 2),
        class: bytes[4],
        subclass: bytes[5],
        protocol: bytes[6],
        max_packet_size0: bytes[7],
        ..DeviceDescriptor::default()
    };
    if bytes.len() >= 18 {
        d.vendor = u16_at(bytes, 8);
        d.product = u16_at(bytes, 10);
        d.configurations = bytes[17];
    }
    Ok(d)
}

/// Endpoint 0's packet size in bytes from bMaxPacketSize0, for a device of
/// xHCI speed id `speed`: 8 for low speed; 8, 16, 32 or 64 for full
/// speed; 64 for high speed; for super speed the field is an exponent, 9
/// (512 bytes) (USB 2.0, 9.6.1; USB 3.2, 9.6.1).
pub fn ep0_packet_size(speed: u8, raw: u8) -> Result<u16, DescriptorError> {
    let size = match (speed, raw) {
        (2, 8) | (1, 8 | 16 | 32 | 64) | (3, 64) => u16::from(raw),
        (4 | 5, 9) => 512,
        _ => return Err(DescriptorError::BadPacketSize(raw)),
    };
    Ok(size)
}

/// The configuration header's total length (wTotalLength), from its first 9 bytes.
pub fn total_length(bytes: &[u8]) -> Result<u16, DescriptorError> {
    if bytes.len() < 9 {
        return Err(DescriptorError::Truncated);
    }
    if bytes[1] != CONFIGURATION {
        return Err(DescriptorError::WrongType(bytes[1]));
    }
    match u16_at(bytes, 2) {
        n if n < 9 => Err(DescriptorError::BadTotalLength(n)),
        n => Ok(n),
    }
}

/// A boot keyboard found in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyboardInterface {
    /// bConfigurationValue, for SET_CONFIGURATION.
    pub configuration: u8,
    /// bInterfaceNumber, for the class requests.
    pub interface: u8,
    /// The interrupt-IN endpoint's number (1-15).
    pub endpoint: u8,
    /// Its max packet size.
    pub max_packet: u16,
    /// Its bInterval.
    pub interval: u8,
}

/// Walks a whole configuration descriptor (`bytes` as read, at most
/// wTotalLength) for the first boot keyboard interface and its interrupt-IN
/// endpoint.
pub fn find_keyboard(bytes: &[u8]) -> Result<KeyboardInterface, DescriptorError> {
    let total = usize::from(total_length(bytes)?);
    if total > bytes.len() {
        return Err(DescriptorError::PastEnd { offset: 0 });
    }
    let data = &bytes[..total];
    let configuration = data[5];
    let mut offset = 0;
    let mut in_keyboard: Option<u8> = None;
    while offset + 2 <= data.len() {
        let length = usize::from(data[offset]);
        if length < 2 {
            return Err(DescriptorError::ZeroLength { offset });
        }
        let Some(d) = data.get(offset..offset + length) else {
            return Err(DescriptorError::PastEnd { offset });
        };
        match d[1] {
            INTERFACE if d.len() >= 9 => {
                let boot_keyboard =
                    (d[5], d[6], d[7]) == (HID_CLASS, BOOT_SUBCLASS, KEYBOARD_PROTOCOL);
                in_keyboard = boot_keyboard.then_some(d[2]);
            }
            ENDPOINT if d.len() >= 7 => {
                let (address, attributes) = (d[2], d[3]);
                let interrupt_in = address & 0x80 != 0 && attributes & 0x3 == 3;
                if let (Some(interface), true) = (in_keyboard, interrupt_in) {
                    return Ok(KeyboardInterface {
                        configuration,
                        interface,
                        endpoint: address & 0x0F,
                        max_packet: u16_at(d, 4) & 0x7FF,
                        interval: d[6],
                    });
                }
            }
            INTERFACE | ENDPOINT => return Err(DescriptorError::Truncated),
            _ => {}
        }
        offset += length;
    }
    Err(DescriptorError::NoKeyboard)
}

#[cfg(test)]
#[path = "descriptor_tests.rs"]
mod tests;
