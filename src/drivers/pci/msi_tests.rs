use super::*;
use core::cell::RefCell;
use std::vec::Vec;

/// One function's 256 bytes of configuration space in ordinary memory.
struct FakeConfig(RefCell<[u32; 64]>);

impl FakeConfig {
    fn new() -> Self {
        Self(RefCell::new([0; 64]))
    }

    fn set(&self, offset: u16, value: u32) {
        self.0.borrow_mut()[usize::from(offset / 4)] = value;
    }

    fn get(&self, offset: u16) -> u32 {
        self.0.borrow()[usize::from(offset / 4)]
    }
}

impl ConfigRegionAccess for FakeConfig {
    unsafe fn read(&self, _address: PciAddress, offset: u16) -> u32 {
        self.get(offset)
    }

    unsafe fn write(&self, _address: PciAddress, offset: u16, value: u32) {
        self.set(offset, value)
    }
}

fn here() -> PciAddress {
    PciAddress::new(0, 0, 4, 0)
}

#[test]
fn a_message_names_the_apic_and_the_vector_fixed_and_edge() {
    let m = message(0, 0x41).unwrap();
    assert_eq!(
        m,
        Message {
            address: 0xFEE0_0000,
            data: 0x41
        }
    );
    let m = message(3, 0xEF).unwrap();
    assert_eq!(m.address, 0xFEE0_3000);
    // Delivery mode (10:8), level (14) and trigger mode (15) all zero.
    assert_eq!(m.data & 0xC700, 0);
    assert_eq!(message(0xFF, 0x50).unwrap().address, 0xFEEF_F000);
    assert_eq!(message(0x100, 0x50), None);
}

#[test]
fn msi_fields_move_with_the_width_and_masking() {
    let narrow = msi_layout(0x50, 0);
    assert_eq!(
        narrow,
        MsiLayout {
            upper_address: None,
            data: 0x58,
            mask: None
        }
    );
    let wide = msi_layout(0x50, MSI_64BIT);
    assert_eq!(
        wide,
        MsiLayout {
            upper_address: Some(0x58),
            data: 0x5C,
            mask: None
        }
    );
    let masked = msi_layout(0x50, MSI_64BIT | MSI_PER_VECTOR_MASK);
    assert_eq!(masked.mask, Some(0x60));
    assert_eq!(msi_layout(0x50, MSI_PER_VECTOR_MASK).mask, Some(0x5C));
}

#[test]
fn the_msix_table_is_found_by_bar_and_offset() {
    // qemu-xhci: 16 entries in BAR 0 at 0x3000.
    assert_eq!(msix_table(0x000F, 0x3000), (0, 0x3000, 16));
    assert_eq!(msix_table(0x07FF, 0x0000_2004), (4, 0x2000, 2048));
}

#[test]
fn the_capability_list_is_walked_and_a_loop_ends() {
    let config = FakeConfig::new();
    config.set(0x04, STATUS_CAPABILITIES);
    config.set(CAPABILITIES_POINTER, 0x90);
    config.set(0x90, 0x11 | 0x70 << 8);
    config.set(0x70, 0x05); // the last: next pointer 0
    let found: Vec<_> = capabilities(&config, here()).collect();
    assert_eq!(found, [(0x11, 0x90), (0x05, 0x70)]);
    assert_eq!(find(&config, here(), CAP_MSI), Some(0x70));
    // A list pointing back at itself ends after a bounded walk.
    config.set(0x70, 0x05 | 0x90 << 8);
    assert_eq!(capabilities(&config, here()).count(), MAX_CAPABILITIES);
    assert_eq!(find(&config, here(), 0x10), None);
    // Without the status bit there is no list to read.
    config.set(0x04, 0);
    assert_eq!(capabilities(&config, here()).count(), 0);
}

#[test]
fn an_absent_function_has_no_capabilities() {
    let config = FakeConfig::new();
    config.0.borrow_mut().fill(u32::MAX);
    assert_eq!(capabilities(&config, here()).count(), 0);
}

#[test]
fn msi_is_programmed_for_one_vector_and_unmasked() {
    let config = FakeConfig::new();
    // A 64-bit capability with per-vector masking, 4 vectors capable,
    // vector 0 masked.
    let control = MSI_64BIT | MSI_PER_VECTOR_MASK | 0b010 << 1 | 0b010 << 4;
    config.set(0x50, 0x05 | control << 16);
    config.set(0x60, 0b1111);
    enable_msi(&config, here(), 0x50, message(1, 0x42).unwrap());
    assert_eq!(config.get(0x54), 0xFEE0_1000);
    assert_eq!(config.get(0x58), 0);
    assert_eq!(config.get(0x5C), 0x42);
    assert_eq!(config.get(0x60), 0b1110);
    let control = config.get(0x50) >> 16;
    assert_eq!(control & MSI_ENABLE, MSI_ENABLE);
    assert_eq!(control & MSI_MULTIPLE_ENABLE, 0);
    assert_eq!(config.get(0x50) & 0xFFFF, 0x05);
}

#[test]
fn narrow_msi_puts_the_data_after_the_address() {
    let config = FakeConfig::new();
    config.set(0x50, 0x05);
    enable_msi(&config, here(), 0x50, message(0, 0x43).unwrap());
    assert_eq!(config.get(0x54), 0xFEE0_0000);
    assert_eq!(config.get(0x58), 0x43);
    assert_eq!(config.get(0x5C), 0);
}
