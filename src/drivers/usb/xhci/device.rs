//! Devices on the root hub's ports: reset, slot, address, descriptors,
//! configuration, and the boot keyboard's interrupt-IN endpoint. Hot-plug
//! comes through port status change events, handled the same way.

use core::time::Duration;

use super::context::{self, Endpoint, InputContext};
use super::keyboard::KeyboardEndpoint;
use super::regs::*;
use super::ring::{ProducerRing, Trb, kind};
use super::{Controller, XhciError, wait_until};
use crate::drivers::pci::Bdf;
use crate::drivers::usb::descriptor::{self, DeviceDescriptor};
use crate::memory::dma::DmaPage;

/// How long a port reset may take (USB 2.0 asks for 10-20 ms of reset).
const PORT_RESET_LIMIT: Duration = Duration::from_millis(500);
/// Quiet time after a port reset.
const RESET_RECOVERY: Duration = Duration::from_millis(10);
/// Largest configuration descriptor read (one frame).
const MAX_CONFIG: u16 = 4096;

/// A device with a slot.
pub struct Device {
    /// Its slot id.
    pub slot: u8,
    /// The root port it is on.
    pub port: u8,
    /// Port speed id (1 full, 2 low, 3 high, 4 super).
    pub speed: u8,
    /// Its device descriptor.
    pub descriptor: DeviceDescriptor,
    output: DmaPage,
    pub(super) input: DmaPage,
    pub(super) buffer: DmaPage,
    pub(super) ep0: ProducerRing,
    /// The keyboard on it, once configured.
    pub keyboard: Option<KeyboardEndpoint>,
}

/// Speed id as a name.
pub fn speed_name(speed: u8) -> &'static str {
    match speed {
        1 => "full speed (12 Mb/s)",
        2 => "low speed (1.5 Mb/s)",
        3 => "high speed (480 Mb/s)",
        4 => "super speed (5 Gb/s)",
        5 => "super speed+ (10 Gb/s)",
        _ => "unknown speed",
    }
}

impl Controller {
    /// Looks at every port whose status changed: attaches new devices,
    /// detaches removed ones.
    pub async fn service_ports(&mut self) {
        let pending = self.take_pending_ports();
        for port in 1..=self.ports.min(64) {
            if pending & (1 << (port - 1)) != 0 {
                self.port_changed(port).await;
            }
        }
    }

    fn slot_on(&self, port: u8) -> Option<u8> {
        self.devices
            .iter()
            .flatten()
            .find(|d| d.port == port)
            .map(|d| d.slot)
    }

    async fn port_changed(&mut self, port: u8) {
        let status = self.port_status(port);
        self.write_port(port, status & PORT_CHANGE_BITS);
        let connected = status & PORT_CONNECTED != 0;
        let present = self.slot_on(port);
        if let Some(slot) = present
            && (!connected || status & PORT_CONNECT_CHANGE != 0)
        {
            self.detach(slot, "removed").await;
        }
        if connected && (present.is_none() || status & PORT_CONNECT_CHANGE != 0) {
            log::info!(
                "usb {}: port {port}: device connected (USB {} port)",
                Bdf(self.address),
                self.port_version(port)
            );
            if let Err(err) = self.attach(port).await {
                log::warn!(
                    "usb {}: port {port}: device not usable: {err}",
                    Bdf(self.address)
                );
            }
        }
    }

    async fn reset_port(&mut self, port: u8) -> Result<(), XhciError> {
        if self.port_version(port) != 3 {
            self.write_port(port, PORT_RESET);
            wait_until("the port reset", PORT_RESET_LIMIT, || {
                self.port_status(port) & PORT_RESET_CHANGE != 0
            })
            .await?;
            self.write_port(port, PORT_RESET_CHANGE);
            // USB 2.0, 7.1.7.5: 10 ms of reset recovery before the first
            // request.
            crate::task::timer::sleep(RESET_RECOVERY).await;
        }
        wait_until("the port to be enabled", PORT_RESET_LIMIT, || {
            self.port_status(port) & PORT_ENABLED != 0
        })
        .await
    }

    async fn attach(&mut self, port: u8) -> Result<(), XhciError> {
        self.reset_port(port).await?;
        let speed = ((self.port_status(port) >> PORT_SPEED_SHIFT) & 0xF) as u8;
        let event = self.command(Trb::new(kind::ENABLE_SLOT, 0, 0, 0)).await?;
        let slot = event.slot();
        if slot == 0 || usize::from(slot) >= self.devices.len() {
            return Err(XhciError::NoDevice(slot));
        }
        let device = Device {
            slot,
            port,
            speed,
            descriptor: DeviceDescriptor::default(),
            output: self.page()?,
            input: self.page()?,
            buffer: self.page()?,
            ep0: ProducerRing::on(self.page()?),
            keyboard: None,
        };
        self.set_dcbaa(slot, device.output.phys());
        self.devices[usize::from(slot)] = Some(device);
        let result = self.configure(slot).await;
        if result.is_err() {
            self.detach(slot, "given up").await;
        }
        result
    }

    /// The device in `slot`.
    pub(super) fn device(&mut self, slot: u8) -> Result<&mut Device, XhciError> {
        self.devices
            .get_mut(usize::from(slot))
            .and_then(Option::as_mut)
            .ok_or(XhciError::NoDevice(slot))
    }

    async fn configure(&mut self, slot: u8) -> Result<(), XhciError> {
        self.address_device(slot).await?;
        let head = self.get_descriptor(slot, descriptor::DEVICE, 8).await?;
        let head = descriptor::parse_device(&head).map_err(XhciError::Descriptor)?;
        self.set_ep0_packet_size(slot, head.max_packet_size0)
            .await?;
        let bytes = self.get_descriptor(slot, descriptor::DEVICE, 18).await?;
        let d = descriptor::parse_device(&bytes).map_err(XhciError::Descriptor)?;
        self.device(slot)?.descriptor = d;
        let (port, speed) = (self.device(slot)?.port, self.device(slot)?.speed);
        log::info!(
            "usb {}: port {port}: device {:04x}:{:04x} class {:02x}, {}, slot {slot}",
            Bdf(self.address),
            d.vendor,
            d.product,
            d.class,
            speed_name(speed)
        );
        let head = self
            .get_descriptor(slot, descriptor::CONFIGURATION, 9)
            .await?;
        let total = descriptor::total_length(&head).map_err(XhciError::Descriptor)?;
        let config = self
            .get_descriptor(slot, descriptor::CONFIGURATION, total.min(MAX_CONFIG))
            .await?;
        match descriptor::find_keyboard(&config) {
            Ok(keyboard) => self.start_keyboard(slot, keyboard).await,
            Err(descriptor::DescriptorError::NoKeyboard) => {
                log::info!(
                    "usb {}: port {port}: not a boot keyboard; left unconfigured",
                    Bdf(self.address)
                );
                Ok(())
            }
            Err(err) => Err(XhciError::Descriptor(err)),
        }
    }

    async fn address_device(&mut self, slot: u8) -> Result<(), XhciError> {
        let size = self.context_size;
        let device = self.device(slot)?;
        let packet = match device.speed {
            3 => 64,
            4 | 5 => 512,
            _ => 8,
        };
        let (port, speed, ring) = (device.port, device.speed, device.ep0.base().as_u64());
        let mut input = InputContext::new(&mut device.input, size);
        input.add(0b11);
        input.slot(speed, 1, port);
        input.endpoint(1, &control_endpoint(packet, ring));
        let input = device.input.phys().as_u64();
        let trb = Trb::new(kind::ADDRESS_DEVICE, input, 0, u32::from(slot) << 24);
        self.command(trb).await.map(|_| ())
    }

    async fn set_ep0_packet_size(&mut self, slot: u8, packet: u8) -> Result<(), XhciError> {
        let size = self.context_size;
        let device = self.device(slot)?;
        let packet =
            descriptor::ep0_packet_size(device.speed, packet).map_err(XhciError::Descriptor)?;
        // High and super speed have one size, set at addressing; 8 is the
        // size full and low speed were addressed with.
        if device.speed >= 3 || packet == 8 {
            return Ok(());
        }
        let ring = device.ep0.base().as_u64();
        let mut input = InputContext::new(&mut device.input, size);
        input.add(0b10);
        input.endpoint(1, &control_endpoint(packet, ring));
        let input = device.input.phys().as_u64();
        let trb = Trb::new(kind::EVALUATE_CONTEXT, input, 0, u32::from(slot) << 24);
        self.command(trb).await.map(|_| ())
    }

    /// Gives up the device in `slot` (it was `removed`, or failed to
    /// start): its keys released, its slot disabled, its frames kept for
    /// the next device once the controller no longer uses them.
    async fn detach(&mut self, slot: u8, what: &str) {
        let Some(mut device) = self.devices[usize::from(slot)].take() else {
            return;
        };
        log::info!(
            "usb {}: port {}: device {:04x}:{:04x} {what}; slot {slot} disabled",
            Bdf(self.address),
            device.port,
            device.descriptor.vendor,
            device.descriptor.product
        );
        let keyboard = device.keyboard.take();
        let trb = Trb::new(kind::DISABLE_SLOT, 0, 0, u32::from(slot) << 24);
        let disabled = self.command(trb).await;
        self.set_dcbaa(slot, x86_64::PhysAddr::zero());
        self.control_done.retain(|e| e.slot() != slot);
        let pages = keyboard.map(KeyboardEndpoint::unplug);
        if let Err(err) = disabled {
            // The controller may still write to them: they are not reused.
            log::warn!(
                "usb {}: slot {slot}: disable failed: {err}; its memory is not reused",
                Bdf(self.address)
            );
            return;
        }
        self.spare.extend(pages.into_iter().flatten());
        self.spare.extend([
            device.output,
            device.input,
            device.buffer,
            device.ep0.into_page(),
        ]);
    }
}

fn control_endpoint(max_packet: u16, ring: u64) -> Endpoint {
    Endpoint {
        kind: context::EP_CONTROL,
        max_packet,
        interval: 0,
        ring,
        average_length: 8,
    }
}
