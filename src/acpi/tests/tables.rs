//! The whole reading, through the `acpi` crate, over tables built in host
//! memory: a "physical address" here is the address of a host buffer.

use core::cell::RefCell;
use core::ptr::NonNull;
use std::boxed::Box;
use std::collections::BTreeMap;
use std::vec::Vec;

use acpi::sdt::Signature;
use acpi::{AcpiHandler, PhysicalMapping};

use super::fadt::q35_like;
use super::madt::{ioapic, lapic, madt, source_override};
use super::{fix_checksum, sdt};
use crate::acpi::handler::{in_usable_ram, mapped_length, mapped_pages, unmap_extent};
use crate::acpi::read::{MadtError, PowerError, S5Failure, read};
use crate::acpi::sleep_object::{S5Error, SleepTypes};
use crate::acpi::tables::{Problem, Root, TableError};
use crate::memory::{MemoryKind, MemoryRegion, PAGE_SIZE, PhysRange};

/// Host memory as physical memory: every address is a host pointer. Each
/// mapping reaches through the end of its last page, as the kernel's does
/// (so the crate reuses a header's mapping for a table that fits in it),
/// and the pages each mapping takes and gives back are counted.
#[derive(Clone, Debug)]
struct HostMemory;

std::thread_local! {
    /// Pages mapped and not yet unmapped, by page address, on this test's
    /// thread.
    static MAPPED: RefCell<BTreeMap<u64, usize>> = const { RefCell::new(BTreeMap::new()) };
}

fn pages(range: core::ops::Range<u64>) -> impl Iterator<Item = u64> {
    range.step_by(PAGE_SIZE as usize)
}

/// Whether every page mapped so far on this thread was unmapped.
fn all_unmapped() -> bool {
    MAPPED.with(|m| m.borrow().values().all(|&n| n == 0))
}

impl AcpiHandler for HostMemory {
    unsafe fn map_physical_region<T>(
        &self,
        address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let mapped = mapped_length(address as u64, size as u64);
        MAPPED.with(|m| {
            for page in pages(mapped_pages(address as u64, mapped)) {
                *m.borrow_mut().entry(page).or_default() += 1;
            }
        });
        // SAFETY: the tests pass addresses of live buffers (the `Tables`
        // below), each as long as the crate reads; the crate reads no more
        // than a table's length, which each buffer holds.
        unsafe {
            PhysicalMapping::new(
                address,
                NonNull::new(address as *mut T).unwrap(),
                size,
                mapped as usize,
                HostMemory,
            )
        }
    }

    fn unmap_physical_region<T>(region: &PhysicalMapping<Self, T>) {
        MAPPED.with(|m| {
            for page in pages(unmap_extent(region)) {
                let mut m = m.borrow_mut();
                let count = m.get_mut(&page).expect("unmapping a page never mapped");
                *count = count.checked_sub(1).expect("unmapping a page twice");
            }
        });
    }
}

/// Tables in boxes (so their addresses stay put), and the XSDT listing
/// them.
struct Tables {
    listed: Vec<Box<[u8]>>,
    dsdt: Box<[u8]>,
    xsdt: Box<[u8]>,
}

impl Tables {
    /// The FADT (first in `listed`) points at the DSDT; the XSDT lists all.
    fn new(mut listed: Vec<Vec<u8>>, dsdt: Vec<u8>) -> Self {
        let dsdt = dsdt.into_boxed_slice();
        if let Some(fadt) = listed.iter_mut().find(|t| &t[..4] == b"FACP") {
            fadt[140..148].copy_from_slice(&(dsdt.as_ptr() as u64).to_le_bytes());
            fix_checksum(fadt);
        }
        let listed: Vec<Box<[u8]>> = listed.into_iter().map(Vec::into_boxed_slice).collect();
        let pointers: Vec<u8> = listed
            .iter()
            .flat_map(|t| (t.as_ptr() as u64).to_le_bytes())
            .collect();
        let xsdt = sdt(b"XSDT", 1, &pointers).into_boxed_slice();
        Self { listed, dsdt, xsdt }
    }

    fn root(&self) -> Root {
        Root {
            revision: 2,
            address: self.xsdt.as_ptr() as u64,
        }
    }
}

/// A DSDT whose AML names `_S5` as QEMU does, with SLP_TYP 5 and 5.
fn dsdt() -> Vec<u8> {
    sdt(
        b"DSDT",
        1,
        &[
            0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05,
        ],
    )
}

fn qemu_like_madt() -> Vec<u8> {
    madt(
        1,
        &[
            lapic(0, 0, 1),
            lapic(1, 1, 1),
            ioapic(0, 0xfec0_0000, 0),
            source_override(0, 0, 2, 0),
        ],
    )
}

#[test]
fn every_table_is_read_through_the_crate() {
    let tables = Tables::new(vec![q35_like(0), qemu_like_madt()], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    let interrupts = reading.interrupts.unwrap();
    assert_eq!(interrupts.facts.local_apics.len(), 2);
    assert_eq!(interrupts.facts.overrides[0].gsi, 2);
    let power = reading.power.unwrap();
    assert!(power.reset.is_some());
    assert_eq!(reading.s5, Ok(SleepTypes { a: 5, b: 5 }));
    assert_eq!(reading.hpet, Err(TableError::Missing(Signature::HPET)));
    assert_eq!(reading.mcfg, Err(TableError::Missing(Signature::MCFG)));
    drop(tables.listed);
}

#[test]
fn an_mcfg_is_found_through_the_crate_and_a_truncated_one_named() {
    let mut entry = 0xB000_0000u64.to_le_bytes().to_vec();
    entry.extend_from_slice(&[0, 0, 0, 0xFF, 0, 0, 0, 0]);
    let good = super::mcfg::mcfg(&[entry]);
    let tables = Tables::new(vec![q35_like(0), good.clone()], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    let regions = reading.mcfg.unwrap();
    assert_eq!((regions[0].base, regions[0].end_bus), (0xB000_0000, 0xFF));
    // Cut by 4 bytes, with its length and checksum made to agree.
    let mut short = good[..good.len() - 4].to_vec();
    let len = short.len() as u32;
    short[4..8].copy_from_slice(&len.to_le_bytes());
    super::fix_checksum(&mut short);
    let tables = Tables::new(vec![q35_like(0), short], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(
        reading.mcfg,
        Err(TableError::Bad(Signature::MCFG, Problem::TooShort))
    );
}

#[test]
fn a_madt_checksum_error_is_named_and_the_rest_still_read() {
    let mut bad = qemu_like_madt();
    bad[20] ^= 0x55; // an OEM table id byte: still text, checksum now wrong
    let tables = Tables::new(vec![q35_like(0), bad], dsdt());
    let madt_at = tables.listed[1].as_ptr() as u64;
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(
        reading.interrupts,
        Err(MadtError::Table(TableError::Bad(
            Signature::MADT,
            Problem::Checksum(madt_at)
        )))
    );
    let message = format!(
        "{}",
        TableError::Bad(Signature::MADT, Problem::Checksum(madt_at))
    );
    assert!(message.contains("APIC table: checksum error"), "{message}");
    assert!(reading.power.is_ok());
}

#[test]
fn a_missing_madt_and_fadt_are_named() {
    let tables = Tables::new(vec![], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    let missing = |sig| TableError::Missing(sig);
    assert_eq!(
        reading.interrupts,
        Err(MadtError::Table(missing(Signature::MADT)))
    );
    assert_eq!(
        reading.power,
        Err(PowerError::Table(missing(Signature::FADT)))
    );
    assert_eq!(reading.s5, Err(S5Failure::Table(missing(Signature::FADT))));
}

#[test]
fn a_root_table_checksum_error_stops_the_reading() {
    let mut tables = Tables::new(vec![qemu_like_madt()], dsdt());
    tables.xsdt[10] ^= 1;
    let at = tables.xsdt.as_ptr() as u64;
    assert_eq!(
        read(HostMemory, tables.root()).err(),
        Some(TableError::Root(Signature::XSDT, Problem::Checksum(at)))
    );
}

#[test]
fn a_dsdt_without_s5_or_with_a_bad_checksum_is_reported() {
    let empty = sdt(b"DSDT", 1, &[0x10, 0x05, b'_', b'S', b'B', b'_']);
    let tables = Tables::new(vec![q35_like(0)], empty);
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(reading.s5, Err(S5Failure::Aml(S5Error::NotFound)));

    let mut corrupt = dsdt();
    corrupt[40] ^= 1;
    let tables = Tables::new(vec![q35_like(0)], corrupt);
    let at = tables.dsdt.as_ptr() as u64;
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(
        reading.s5,
        Err(S5Failure::Table(TableError::Bad(
            Signature::DSDT,
            Problem::Checksum(at)
        )))
    );
}

#[test]
fn s5_is_found_in_an_ssdt_when_the_dsdt_lacks_it() {
    let empty = sdt(b"DSDT", 1, &[0x10, 0x05, b'_', b'S', b'B', b'_']);
    let ssdt = sdt(
        b"SSDT",
        1,
        &[
            0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x01, 0x0a, 0x03,
        ],
    );
    let tables = Tables::new(vec![q35_like(0), ssdt], empty);
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(reading.s5, Ok(SleepTypes { a: 1, b: 3 }));
}

#[test]
fn tables_in_usable_ram_are_refused() {
    let region = |start: u64, end: u64, kind| MemoryRegion {
        range: PhysRange::new(x86_64::PhysAddr::new(start), x86_64::PhysAddr::new(end)),
        kind,
    };
    let map = [
        region(0x10_0000, 0x7fe_0000, MemoryKind::Usable),
        region(0x7fe_0000, 0x800_0000, MemoryKind::Reserved),
        region(0x800_0000, 0x810_0000, MemoryKind::AcpiReclaimable),
    ];
    let range = |start: u64, len: u64| crate::acpi::handler::phys_range(start, len).unwrap();
    assert!(!in_usable_ram(&map, range(0x7fe_1ad8, 0x40)));
    assert!(!in_usable_ram(&map, range(0x800_0000, 0x1000)));
    assert!(in_usable_ram(&map, range(0x20_0000, 0x24)));
    // Straddling the end of usable RAM.
    assert!(in_usable_ram(&map, range(0x7fd_fff0, 0x24)));
    // A corrupt length asking for gigabytes is no range at all.
    assert!(crate::acpi::handler::phys_range(0x7fe_0000, 1 << 32).is_none());
}

#[test]
fn an_ssdt_with_a_bogus_length_is_skipped() {
    let empty = sdt(b"DSDT", 1, &[0x10, 0x05, b'_', b'S', b'B', b'_']);
    let mut short = sdt(
        b"SSDT",
        1,
        &[0x08, b'_', b'S', b'5', b'_', 0x12, 0x04, 0x02, 0, 0],
    );
    short[4..8].copy_from_slice(&20u32.to_le_bytes());
    fix_checksum(&mut short);
    let tables = Tables::new(vec![q35_like(0), short], empty);
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(reading.s5, Err(S5Failure::Aml(S5Error::NotFound)));
}

#[test]
fn a_root_table_shorter_than_its_header_is_refused() {
    let mut tables = Tables::new(vec![q35_like(0)], dsdt());
    // The buffer stays whole (the crate reads a full header); the length
    // field says 20 and the checksum over those 20 bytes holds.
    tables.xsdt[4..8].copy_from_slice(&20u32.to_le_bytes());
    fix_checksum(&mut tables.xsdt[..20]);
    assert_eq!(
        read(HostMemory, tables.root()).err(),
        Some(TableError::Root(Signature::XSDT, Problem::TooShort))
    );
}

/// Maps headers, refuses anything larger with zeros (as the kernel's
/// handler does for memory it will not map).
#[derive(Clone, Debug)]
struct HeadersOnly;

impl AcpiHandler for HeadersOnly {
    unsafe fn map_physical_region<T>(
        &self,
        address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let at = if size <= crate::acpi::tables::HEADER_LEN {
            address as *mut T
        } else {
            Box::leak(vec![0u8; size].into_boxed_slice())
                .as_mut_ptr()
                .cast()
        };
        // SAFETY: a live test buffer, or a leaked zeroed one of `size` bytes.
        unsafe { PhysicalMapping::new(address, NonNull::new(at).unwrap(), size, size, HeadersOnly) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

#[test]
fn a_root_table_that_cannot_be_mapped_whole_lists_nothing() {
    let tables = Tables::new(vec![q35_like(0), qemu_like_madt()], dsdt());
    assert_eq!(
        crate::acpi::tables::listed(&HeadersOnly, tables.root()),
        Vec::<u64>::new()
    );
    let listed = crate::acpi::tables::listed(&HostMemory, tables.root());
    assert_eq!(listed.len(), 2);
}

#[test]
fn every_mapping_is_given_back() {
    let tables = Tables::new(vec![q35_like(0), qemu_like_madt()], dsdt());
    drop(read(HostMemory, tables.root()).unwrap());
    assert!(all_unmapped());
    // An HPET table whose length field says 0 (its checksum over no bytes
    // holds): the crate hands back the header's mapping with a region
    // length of 0, and its pages must still be unmapped.
    let mut hpet = sdt(b"HPET", 1, &[0; 20]);
    hpet[4..8].copy_from_slice(&0u32.to_le_bytes());
    let tables = Tables::new(vec![q35_like(0), hpet], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(
        reading.hpet,
        Err(TableError::Bad(Signature::HPET, Problem::TooShort))
    );
    drop(reading);
    assert!(all_unmapped());
}

#[test]
fn a_mapping_reaches_the_end_of_its_last_page() {
    assert_eq!(mapped_length(0x1000, 36), 0x1000);
    assert_eq!(mapped_length(0x1ff0, 36), 0x1010);
    assert_eq!(mapped_length(0x1ff0, 16), 0x10);
    assert_eq!(mapped_pages(0x1ff0, 0x1010), 0x1000..0x3000);
    assert_eq!(mapped_pages(0x1ff0, 0x10), 0x1000..0x2000);
    assert_eq!(mapped_pages(0x1000, 0x1000), 0x1000..0x2000);
    assert!(mapped_pages(0x1ff0, 0).is_empty());
}

#[test]
fn hpet_registers_outside_memory_are_named() {
    let mut body = [0u8; 20];
    body[4] = 1; // the base address's space: system I/O
    body[8..16].copy_from_slice(&0x1000u64.to_le_bytes());
    let tables = Tables::new(vec![q35_like(0), sdt(b"HPET", 1, &body)], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    let err = TableError::Bad(Signature::HPET, Problem::AddressSpace(1));
    assert_eq!(reading.hpet, Err(err));
    assert!(format!("{err}").contains("address space 1"));
    // In memory space it is read.
    body[4] = 0;
    let tables = Tables::new(vec![q35_like(0), sdt(b"HPET", 1, &body)], dsdt());
    let reading = read(HostMemory, tables.root()).unwrap();
    assert_eq!(reading.hpet.map(|h| h.address), Ok(0x1000));
}
