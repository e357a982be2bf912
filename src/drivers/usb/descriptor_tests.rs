use super::*;
use std::vec::Vec;

/// QEMU's usb-kbd: configuration, interface (HID boot keyboard), HID
/// descriptor, endpoint 0x81 interrupt, 8 bytes, interval 7.
fn keyboard_config() -> Vec<u8> {
    let mut c = std::vec![9, 2, 34, 0, 1, 1, 0, 0xA0, 50];
    c.extend([9, 4, 0, 0, 1, 3, 1, 1, 0]);
    c.extend([9, 0x21, 0x11, 1, 0, 1, 0x22, 63, 0]);
    c.extend([7, 5, 0x81, 3, 8, 0, 7]);
    c
}

#[test]
fn device_descriptor_fields() {
    let bytes = [
        18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x27, 0x06, 0x01, 0x00, 0, 0, 1, 2, 3, 1,
    ];
    let d = parse_device(&bytes).unwrap();
    assert_eq!((d.vendor, d.product), (0x0627, 0x0001));
    assert_eq!(
        (d.usb_version, d.max_packet_size0, d.configurations),
        (0x200, 64, 1)
    );
    // The first 8 bytes are enough for the packet size.
    assert_eq!(parse_device(&bytes[..8]).unwrap().max_packet_size0, 64);
    assert_eq!(parse_device(&bytes[..7]), Err(DescriptorError::Truncated));
    let mut wrong = bytes;
    wrong[1] = 2;
    assert_eq!(parse_device(&wrong), Err(DescriptorError::WrongType(2)));
}

#[test]
fn finds_the_boot_keyboard_endpoint() {
    let k = find_keyboard(&keyboard_config()).unwrap();
    assert_eq!(
        k,
        KeyboardInterface {
            configuration: 1,
            interface: 0,
            endpoint: 1,
            max_packet: 8,
            interval: 7
        }
    );
}

#[test]
fn truncated_configuration_is_refused() {
    let c = keyboard_config();
    assert_eq!(find_keyboard(&c[..8]), Err(DescriptorError::Truncated));
    // wTotalLength says 34, only 30 bytes came.
    assert_eq!(
        find_keyboard(&c[..30]),
        Err(DescriptorError::PastEnd { offset: 0 })
    );
}

#[test]
fn zero_length_descriptor_stops_the_walk() {
    let mut c = keyboard_config();
    c[18] = 0; // the HID descriptor's bLength
    assert_eq!(
        find_keyboard(&c),
        Err(DescriptorError::ZeroLength { offset: 18 })
    );
}

#[test]
fn descriptor_running_past_total_length_is_refused() {
    let mut c = keyboard_config();
    c[27] = 9; // the endpoint claims 9 bytes; 7 remain
    assert_eq!(
        find_keyboard(&c),
        Err(DescriptorError::PastEnd { offset: 27 })
    );
}

#[test]
fn short_total_length_is_refused() {
    let mut c = keyboard_config();
    c[2] = 4;
    assert_eq!(find_keyboard(&c), Err(DescriptorError::BadTotalLength(4)));
}

#[test]
fn no_interrupt_in_endpoint_means_no_keyboard() {
    let mut c = keyboard_config();
    c[29] = 0x01; // endpoint 1 OUT
    assert_eq!(find_keyboard(&c), Err(DescriptorError::NoKeyboard));
    let mut mouse = keyboard_config();
    mouse[16] = 2; // interface protocol: mouse
    assert_eq!(find_keyboard(&mouse), Err(DescriptorError::NoKeyboard));
}

#[test]
fn short_interface_descriptor_is_refused() {
    let mut c = keyboard_config();
    c[9] = 5; // an interface of 5 bytes: the walk goes on at the wrong place
    assert!(find_keyboard(&c).is_err());
}

#[test]
fn endpoint_zero_packet_size_follows_the_speed() {
    assert_eq!(ep0_packet_size(1, 64), Ok(64));
    assert_eq!(ep0_packet_size(1, 8), Ok(8));
    assert_eq!(ep0_packet_size(2, 8), Ok(8));
    assert_eq!(ep0_packet_size(3, 64), Ok(64));
    assert_eq!(ep0_packet_size(4, 9), Ok(512));
    // Malformed: zero, not a power of two, too big for the speed.
    assert_eq!(
        ep0_packet_size(1, 0),
        Err(DescriptorError::BadPacketSize(0))
    );
    assert_eq!(
        ep0_packet_size(1, 12),
        Err(DescriptorError::BadPacketSize(12))
    );
    assert_eq!(
        ep0_packet_size(2, 64),
        Err(DescriptorError::BadPacketSize(64))
    );
    assert_eq!(
        ep0_packet_size(4, 64),
        Err(DescriptorError::BadPacketSize(64))
    );
}
