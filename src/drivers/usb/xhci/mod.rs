//! An xHCI host controller: taking it from the firmware, reset, the rings,
//! and commands. Enumeration of devices is in [`device`].
//!
//! [`Controller::poll`] drains the event ring; the USB task calls it when
//! the controller's MSI-X or MSI interrupt wakes it ([`interrupt`]), or
//! every few milliseconds for a controller that has neither.
//!
//! Every wait is bounded by time ([`wait_until`]) and yields to other tasks
//! while it waits. Register layouts are our own constants (`regs`): the
//! driver uses a few dozen fields, each checked against the specification.

mod context;
mod control;
pub mod device;
pub mod interrupt;
mod keyboard;
mod quirks;
mod regs;
mod ring;
mod setup;

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use pci_types::PciAddress;
use x86_64::PhysAddr;

use self::regs::*;
use self::ring::{EventRing, ProducerRing, Trb, code, kind};
use self::setup::{port_versions, reset, take_from_firmware};
use crate::drivers::pci::{self, Bar, PciFunction};
use crate::memory::dma::{self, DmaPage};
use crate::memory::{self, DeviceMapError, PhysRange};
use crate::task::timer::sleep;
use crate::time;

/// How long starting may take.
const RESET_LIMIT: Duration = Duration::from_secs(1);
/// How long a command may take.
const COMMAND_LIMIT: Duration = Duration::from_millis(500);
/// Device slots the driver enables at most.
const MAX_SLOTS: u8 = 32;
/// Scratchpad buffers the driver can give (one frame of pointers).
const MAX_SCRATCHPADS: usize = 512;

/// What went wrong with a controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XhciError {
    /// No memory BAR 0.
    NoRegisters,
    /// Mapping registers or DMA memory failed.
    Memory(DeviceMapError),
    /// A wait ran out.
    Timeout(&'static str),
    /// The controller asks for more scratchpad buffers than one frame lists.
    TooManyScratchpads(usize),
    /// A command or transfer completed with this code.
    Completion(u8),
    /// The controller reported a host system or internal error.
    ControllerError,
    /// DMA memory above 4 GiB for a controller that takes 32-bit addresses
    /// only (the frame allocator has no way yet to ask for low memory).
    OutOfReach(PhysAddr),
    /// No device in this slot (the controller named a slot the driver
    /// did not give out, or the device went away).
    NoDevice(u8),
    /// A descriptor was malformed.
    Descriptor(super::descriptor::DescriptorError),
}

impl From<DeviceMapError> for XhciError {
    fn from(err: DeviceMapError) -> Self {
        Self::Memory(err)
    }
}

impl fmt::Display for XhciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRegisters => f.write_str("no memory BAR 0"),
            Self::Memory(err) => write!(f, "memory: {err}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::TooManyScratchpads(n) => write!(
                f,
                "{n} scratchpad buffers asked (at most {MAX_SCRATCHPADS})"
            ),
            Self::Completion(code::STALL) => f.write_str("stalled"),
            Self::Completion(c) => write!(f, "completion code {c}"),
            Self::ControllerError => f.write_str("the controller reported an internal error"),
            Self::OutOfReach(at) => write!(
                f,
                "DMA memory at {:#x} is beyond the controller's 32-bit reach",
                at.as_u64()
            ),
            Self::NoDevice(slot) => write!(f, "no device in slot {slot}"),
            Self::Descriptor(err) => write!(f, "{err}"),
        }
    }
}

/// Polls `done` until it holds or `limit` passes (measured by the TSC, and
/// also counted in sleeps, so an uncalibrated TSC cannot make it endless).
pub async fn wait_until(
    what: &'static str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) -> Result<(), XhciError> {
    let deadline = time::since_boot() + limit;
    let mut sleeps = limit.as_millis() as u64;
    loop {
        if done() {
            return Ok(());
        }
        if time::since_boot() > deadline || sleeps == 0 {
            return Err(XhciError::Timeout(what));
        }
        sleeps -= 1;
        sleep(Duration::from_millis(1)).await;
    }
}

/// A running controller.
pub struct Controller {
    /// Where it sits on PCI.
    pub address: PciAddress,
    /// Vendor and device id.
    pub id: (u16, u16),
    op: Mmio,
    interrupter: Mmio,
    doorbells: Mmio,
    context_size: usize,
    /// Root hub ports.
    pub ports: u8,
    /// Each port's USB major version (2 or 3; 0 unknown), index port - 1.
    port_versions: Vec<u8>,
    dcbaa: DmaPage,
    commands: ProducerRing,
    events: EventRing,
    /// Devices by slot id.
    pub devices: Vec<Option<device::Device>>,
    /// Whether the controller reaches memory above 4 GiB (HCCPARAMS1.AC64).
    wide: bool,
    /// The controller reported a fatal error.
    pub failed: bool,
    /// Ports whose status changed, to be looked at.
    pending_ports: u64,
    /// Completed commands not yet claimed.
    completions: Vec<Trb>,
    /// Completed control transfers not yet claimed.
    control_done: Vec<Trb>,
    /// The controller's own scratchpad buffers and their array, kept for
    /// its lifetime.
    scratchpads: Vec<DmaPage>,
    /// Frames of removed devices, for the next ones.
    spare: Vec<DmaPage>,
    /// Events dropped by the controller because the ring was full.
    pub ring_full_events: u32,
    /// How its events reach the USB task.
    pub delivery: interrupt::Delivery,
}

/// A frame of DMA memory the controller can reach: below 4 GiB unless it
/// takes 64-bit addresses.
fn dma_page(wide: bool) -> Result<DmaPage, XhciError> {
    let page = dma::allocate()?;
    if !wide && page.phys().as_u64() >= 1 << 32 {
        return Err(XhciError::OutOfReach(page.phys()));
    }
    Ok(page)
}

/// The registers of BAR 0, mapped uncached.
fn map_bar0(function: &PciFunction) -> Result<Mmio, XhciError> {
    let Some(Bar::Memory { base, size, .. }) = function.bars[0] else {
        return Err(XhciError::NoRegisters);
    };
    let range = PhysRange::new(base, base + size.min(0x10000));
    // SAFETY: BAR 0 of an xHCI function is its register block, device
    // memory; nothing else maps it.
    let virt = unsafe { memory::map_registers(range) }?;
    // SAFETY: just mapped for the kernel's run, uncached.
    Ok(unsafe { Mmio::new(virt) })
}

impl Controller {
    /// Takes the controller at `function` from the firmware, resets it,
    /// sets up its rings and starts it.
    pub async fn start(function: &PciFunction) -> Result<Self, XhciError> {
        pci::enable_memory_and_dma(function.address);
        let cap = map_bar0(function)?;
        let op = cap.at(u64::from(cap.read(CAPLENGTH) & 0xFF));
        let params1 = cap.read(HCSPARAMS1);
        let xecp = u64::from(cap.read(HCCPARAMS1) >> 16) * 4;
        take_from_firmware(cap, xecp).await;
        reset(op).await?;
        let slots = (params1 as u8).min(MAX_SLOTS);
        let wide = cap.read(HCCPARAMS1) & HCC_AC64 != 0;
        let ports = (params1 >> 24) as u8;
        let mut controller = Self {
            address: function.address,
            id: (function.vendor, function.device),
            op,
            interrupter: cap.at(u64::from(cap.read(RTSOFF) & !0x1F) + IR0),
            doorbells: cap.at(u64::from(cap.read(DBOFF) & !0x3)),
            context_size: if cap.read(HCCPARAMS1) & HCC_CSZ != 0 {
                64
            } else {
                32
            },
            ports,
            port_versions: port_versions(cap, xecp, ports),
            dcbaa: dma_page(wide)?,
            commands: ProducerRing::on(dma_page(wide)?),
            events: EventRing::new(dma_page(wide)?, dma_page(wide)?),
            wide,
            devices: (0..=slots).map(|_| None).collect(),
            pending_ports: 0,
            failed: false,
            completions: Vec::new(),
            control_done: Vec::new(),
            scratchpads: Vec::new(),
            spare: Vec::new(),
            ring_full_events: 0,
            delivery: interrupt::Delivery::Polled("not started"),
        };
        controller.setup_scratchpads(cap.read(HCSPARAMS2))?;
        controller.program(slots);
        controller.delivery = interrupt::set_up(function, op, controller.interrupter);
        controller.run().await?;
        controller.power_ports().await;
        if quirks::has_switchable_ports(function.vendor, function.device) {
            let ports = quirks::route_ports_to_xhci(&pci::access(), function.address);
            log::info!(
                "xhci {}: shared USB 2 ports moved from EHCI (mask {ports:#x})",
                pci::Bdf(function.address)
            );
        }
        // Every port with a device is looked at once, as if it had changed.
        controller.pending_ports = (1u64 << ports.min(63)) - 1;
        Ok(controller)
    }

    fn setup_scratchpads(&mut self, params2: u32) -> Result<(), XhciError> {
        let count = ((params2 >> 21) & 0x1F) << 5 | (params2 >> 27);
        let count = count as usize;
        if count == 0 {
            return Ok(());
        }
        if count > MAX_SCRATCHPADS {
            return Err(XhciError::TooManyScratchpads(count));
        }
        let array = dma_page(self.wide)?;
        for i in 0..count {
            let buffer = dma_page(self.wide)?;
            // SAFETY: entry i < 512 of the array's own frame.
            unsafe {
                array
                    .virt()
                    .as_mut_ptr::<u64>()
                    .add(i)
                    .write_volatile(buffer.phys().as_u64())
            };
            self.scratchpads.push(buffer);
        }
        self.set_dcbaa(0, array.phys());
        self.scratchpads.push(array);
        Ok(())
    }

    fn set_dcbaa(&mut self, slot: u8, context: PhysAddr) {
        // SAFETY: slot <= MAX_SLOTS < 512 entries of the DCBAA's own frame.
        unsafe {
            self.dcbaa
                .virt()
                .as_mut_ptr::<u64>()
                .add(usize::from(slot))
                .write_volatile(context.as_u64())
        };
    }

    fn program(&mut self, slots: u8) {
        let op = self.op;
        op.write(CONFIG, (op.read(CONFIG) & !0xFF) | u32::from(slots));
        op.write64(DCBAAP, self.dcbaa.phys().as_u64());
        op.write64(CRCR, self.commands.base().as_u64() | 1);
        let ir = self.interrupter;
        ir.write(ERSTSZ, 1);
        ir.write64(ERDP, self.events.dequeue_pointer().as_u64());
        ir.write64(ERSTBA, self.events.table().as_u64());
    }

    async fn run(&mut self) -> Result<(), XhciError> {
        let op = self.op;
        op.write(USBCMD, op.read(USBCMD) | CMD_RUN);
        wait_until("the controller to run", RESET_LIMIT, || {
            op.read(USBSTS) & STS_HALTED == 0
        })
        .await
    }

    /// Turns on the ports that are off (controllers with port power
    /// control start them off), then gives devices time to be detected.
    async fn power_ports(&mut self) {
        let mut any = false;
        for port in 1..=self.ports {
            if self.port_status(port) & PORT_POWER == 0 {
                self.write_port(port, PORT_POWER);
                any = true;
            }
        }
        if any {
            // USB 2.0, 7.1.7.3: a device may take 100 ms to show it is there
            // after power is good; the 20 ms power-on delay comes first.
            sleep(Duration::from_millis(120)).await;
        }
    }

    /// The USB major version of `port` (1-based): 2, 3, or 0 if unknown.
    pub fn port_version(&self, port: u8) -> u8 {
        self.port_versions
            .get(usize::from(port) - 1)
            .copied()
            .unwrap_or(0)
    }

    /// PORTSC of `port` (1-based).
    pub fn port_status(&self, port: u8) -> u32 {
        self.op.read(PORTSC_BASE + 0x10 * u64::from(port - 1))
    }

    fn write_port(&self, port: u8, set: u32) {
        let value = (self.port_status(port) & PORT_PRESERVE_MASK) | set;
        self.op
            .write(PORTSC_BASE + 0x10 * u64::from(port - 1), value);
    }

    /// Drains the event ring: command completions and control transfers are
    /// kept for their waiters, keyboard reports handled, port changes noted.
    pub fn poll(&mut self) {
        let mut any = false;
        while let Some(event) = self.events.pop() {
            any = true;
            self.dispatch(event);
        }
        if any {
            let erdp = self.events.dequeue_pointer().as_u64() | ERDP_BUSY;
            self.interrupter.write64(ERDP, erdp);
            // An event written between the last pop and the ERDP write
            // may raise no interrupt of its own: look again soon.
            if self.events.has_event() {
                super::on_interrupt();
            }
        }
        let status = self.op.read(USBSTS);
        if status & (STS_HOST_ERROR | STS_CONTROLLER_ERROR) != 0 && !self.failed {
            // The controller has stopped; it needs a reset the driver does
            // not attempt. Said once; its devices are gone.
            self.failed = true;
            log::error!(
                "xhci {}: controller error (USBSTS {status:#x}); its devices stop working",
                pci::Bdf(self.address)
            );
            self.release_keys();
        }
        self.op
            .write(USBSTS, status & (STS_EVENT_INTERRUPT | STS_PORT_CHANGE));
    }

    fn dispatch(&mut self, event: Trb) {
        match event.kind() {
            kind::COMMAND_COMPLETION => self.completions.push(event),
            kind::PORT_STATUS_CHANGE => {
                let port = (event.parameter >> 24) as u8;
                if (1..=self.ports.min(64)).contains(&port) {
                    self.pending_ports |= 1 << (port - 1);
                }
            }
            kind::TRANSFER_EVENT if event.endpoint() == 1 => self.control_done.push(event),
            kind::TRANSFER_EVENT => self.on_transfer(event),
            kind::HOST_CONTROLLER if event.code() == code::EVENT_RING_FULL => {
                self.ring_full_events += 1;
                log::warn!(
                    "xhci {}: event ring full; events were lost",
                    pci::Bdf(self.address)
                );
            }
            other => log::trace!("xhci: event type {other} ignored"),
        }
    }

    /// Whether a port's status changed since it was last looked at.
    pub fn has_pending_ports(&self) -> bool {
        self.pending_ports != 0
    }

    /// Takes the ports whose status changed.
    pub fn take_pending_ports(&mut self) -> u64 {
        core::mem::take(&mut self.pending_ports)
    }

    /// Runs a command and waits for its completion; returns the event.
    async fn command(&mut self, trb: Trb) -> Result<Trb, XhciError> {
        // One command at a time: a completion still here belongs to one
        // that timed out, and must not be taken for this one's.
        self.completions.clear();
        let at = self.commands.push(trb).as_u64();
        self.doorbells.write(0, 0);
        let deadline = time::since_boot() + COMMAND_LIMIT;
        for _ in 0..COMMAND_LIMIT.as_millis() {
            self.poll();
            if let Some(i) = self.completions.iter().position(|e| e.parameter == at) {
                let event = self.completions.swap_remove(i);
                return match event.code() {
                    code::SUCCESS => Ok(event),
                    other => Err(XhciError::Completion(other)),
                };
            }
            if time::since_boot() > deadline {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        Err(XhciError::Timeout("a command to complete"))
    }

    fn ring_doorbell(&self, slot: u8, dci: u8) {
        self.doorbells.write(4 * u64::from(slot), u32::from(dci));
    }

    /// A frame for a new device: a spare one or a fresh one.
    fn page(&mut self) -> Result<DmaPage, XhciError> {
        match self.spare.pop() {
            Some(mut page) => {
                page.zero();
                Ok(page)
            }
            None => dma_page(self.wide),
        }
    }
}
