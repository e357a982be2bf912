//! Devices on the root hub's ports: reset, slot, address, descriptors,
//! configuration, and the boot keyboard's interrupt-IN endpoint. Hot-plug
//! comes through port status change events, handled the same way.

use alloc::vec::Vec;
use core::time::Duration;

use super::context::{self, Endpoint, InputContext};
use super::regs::*;
use super::ring::{IDT, IOC, ProducerRing, Trb, code, kind};
use super::{Controller, XhciError, wait_until};
use crate::drivers::pci::Bdf;
use crate::drivers::usb::descriptor::{self, DeviceDescriptor};
use crate::drivers::usb::hid::Keyboard;
use crate::memory::dma::DmaPage;
use crate::time;

/// How long a port reset may take (USB 2.0 asks for 10-20 ms of reset).
const PORT_RESET_LIMIT: Duration = Duration::from_millis(500);
/// How long a control transfer may take.
const CONTROL_LIMIT: Duration = Duration::from_millis(500);
/// Interrupt-IN transfers kept queued for a keyboard.
const QUEUED_REPORTS: usize = 16;
/// Bytes of buffer per queued report (a boot report is 8).
const REPORT_STRIDE: usize = 16;
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
    input: DmaPage,
    buffer: DmaPage,
    ep0: ProducerRing,
    /// The keyboard on it, once configured.
    pub keyboard: Option<KeyboardEndpoint>,
}

/// A boot keyboard's interrupt-IN endpoint and key state.
pub struct KeyboardEndpoint {
    dci: u8,
    ring: ProducerRing,
    buffers: DmaPage,
    keys: Keyboard,
    /// Reports received.
    pub received: u64,
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

const GET_DESCRIPTOR: u8 = 6;
const SET_CONFIGURATION: u8 = 9;
const SET_IDLE: u8 = 0x0A;
const SET_PROTOCOL: u8 = 0x0B;
const DEVICE_TO_HOST: u8 = 0x80;
const CLASS_INTERFACE: u8 = 0x21;

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
            self.detach(slot).await;
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
            return Err(XhciError::Completion(code::SUCCESS));
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
            self.detach(slot).await;
        }
        result
    }

    fn device(&mut self, slot: u8) -> &mut Device {
        self.devices[usize::from(slot)]
            .as_mut()
            .expect("a slot being configured has its device")
    }

    async fn configure(&mut self, slot: u8) -> Result<(), XhciError> {
        self.address_device(slot).await?;
        let head = self.get_descriptor(slot, descriptor::DEVICE, 8).await?;
        let head = descriptor::parse_device(&head).map_err(XhciError::Descriptor)?;
        self.set_ep0_packet_size(slot, head.max_packet_size0)
            .await?;
        let bytes = self.get_descriptor(slot, descriptor::DEVICE, 18).await?;
        let d = descriptor::parse_device(&bytes).map_err(XhciError::Descriptor)?;
        self.device(slot).descriptor = d;
        let (port, speed) = (self.device(slot).port, self.device(slot).speed);
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
        let device = self.device(slot);
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
        let device = self.device(slot);
        let packet = match device.speed {
            4 | 5 => 1u16 << packet.min(9),
            _ => u16::from(packet),
        };
        if device.speed >= 3 || packet == 8 || packet == 0 {
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

    async fn get_descriptor(
        &mut self,
        slot: u8,
        kind: u8,
        length: u16,
    ) -> Result<Vec<u8>, XhciError> {
        let value = u16::from(kind) << 8;
        self.control(slot, DEVICE_TO_HOST, GET_DESCRIPTOR, value, 0, length)
            .await?;
        let buffer = self.device(slot).buffer.virt().as_ptr::<u8>();
        // SAFETY: the buffer frame is the device's own and holds at least
        // `length` <= 4096 bytes, just written by the controller.
        let bytes = unsafe { core::slice::from_raw_parts(buffer, usize::from(length)) };
        Ok(bytes.to_vec())
    }

    /// A control transfer on endpoint 0: setup, an IN data stage if
    /// `length` > 0, status. Data lands in the device's buffer frame,
    /// zeroed first (a short answer leaves zeros, which the descriptor
    /// checks refuse).
    async fn control(
        &mut self,
        slot: u8,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Result<(), XhciError> {
        // One transfer at a time: an event still here belongs to one that
        // timed out, and must not be taken for this one's.
        self.control_done.clear();
        let device = self.device(slot);
        device.buffer.zero();
        let setup = u64::from(request_type)
            | u64::from(request) << 8
            | u64::from(value) << 16
            | u64::from(index) << 32
            | u64::from(length) << 48;
        let data_in = length > 0;
        let transfer_type = if data_in { 3 << 16 } else { 0 };
        device
            .ep0
            .push(Trb::new(kind::SETUP, setup, 8, IDT | transfer_type));
        if data_in {
            let buffer = device.buffer.phys().as_u64();
            device
                .ep0
                .push(Trb::new(kind::DATA, buffer, u32::from(length), 1 << 16));
        }
        let status_in = if data_in { 0 } else { 1 << 16 };
        device
            .ep0
            .push(Trb::new(kind::STATUS, 0, 0, IOC | status_in));
        self.ring_doorbell(slot, 1);
        let deadline = time::since_boot() + CONTROL_LIMIT;
        for _ in 0..CONTROL_LIMIT.as_millis() {
            self.poll();
            if let Some(i) = self.control_done.iter().position(|e| e.slot() == slot) {
                let event = self.control_done.remove(i);
                return match event.code() {
                    code::SUCCESS | code::SHORT_PACKET => Ok(()),
                    other => Err(XhciError::Completion(other)),
                };
            }
            if time::since_boot() > deadline {
                break;
            }
            crate::task::timer::sleep(Duration::from_millis(1)).await;
        }
        Err(XhciError::Timeout("a control transfer"))
    }

    async fn start_keyboard(
        &mut self,
        slot: u8,
        found: descriptor::KeyboardInterface,
    ) -> Result<(), XhciError> {
        let value = u16::from(found.configuration);
        self.control(slot, 0, SET_CONFIGURATION, value, 0, 0)
            .await?;
        let dci = found.endpoint * 2 + 1;
        let ring = ProducerRing::on(self.page()?);
        let buffers = self.page()?;
        let size = self.context_size;
        let device = self.device(slot);
        let mut input = InputContext::new(&mut device.input, size);
        input.add(1 | 1 << dci);
        input.slot(device.speed, dci, device.port);
        input.endpoint(
            dci,
            &Endpoint {
                kind: context::EP_INTERRUPT_IN,
                max_packet: found.max_packet,
                interval: context::interrupt_interval(device.speed, found.interval),
                ring: ring.base().as_u64(),
                average_length: found.max_packet,
            },
        );
        let input = device.input.phys().as_u64();
        let trb = Trb::new(kind::CONFIGURE_ENDPOINT, input, 0, u32::from(slot) << 24);
        self.command(trb).await?;
        let interface = u16::from(found.interface);
        // Boot protocol (0), then no reports unless something changes.
        self.control(slot, CLASS_INTERFACE, SET_PROTOCOL, 0, interface, 0)
            .await?;
        if let Err(err) = self
            .control(slot, CLASS_INTERFACE, SET_IDLE, 0, interface, 0)
            .await
        {
            // Optional for keyboards; a stall here leaves reports flowing.
            log::warn!(
                "usb {}: slot {slot}: SET_IDLE refused ({err}); going on",
                Bdf(self.address)
            );
        }
        let mut endpoint = KeyboardEndpoint {
            dci,
            ring,
            buffers,
            keys: Keyboard::default(),
            received: 0,
        };
        for _ in 0..QUEUED_REPORTS {
            endpoint.queue_report();
        }
        self.device(slot).keyboard = Some(endpoint);
        self.ring_doorbell(slot, dci);
        log::info!(
            "usb {}: slot {slot}: boot keyboard on interface {}, endpoint {:#x} IN",
            Bdf(self.address),
            found.interface,
            found.endpoint | 0x80
        );
        Ok(())
    }

    /// A transfer event on an endpoint other than 0: a keyboard report.
    pub(super) fn on_transfer(&mut self, event: Trb) {
        let slot = event.slot();
        let Some(Some(device)) = self.devices.get_mut(usize::from(slot)) else {
            return;
        };
        let Some(keyboard) = device
            .keyboard
            .as_mut()
            .filter(|k| k.dci == event.endpoint())
        else {
            return;
        };
        match event.code() {
            code::SUCCESS | code::SHORT_PACKET => {
                let index =
                    (event.parameter.wrapping_sub(keyboard.ring.base().as_u64()) / 16) as usize;
                keyboard
                    .keys
                    .report(keyboard.report(index), time::since_boot());
                keyboard.received += 1;
                keyboard.queue_report();
                let dci = keyboard.dci;
                self.ring_doorbell(slot, dci);
            }
            other => log::warn!(
                "usb {}: slot {slot}: keyboard transfer failed (code {other}); it stays silent",
                Bdf(self.address)
            ),
        }
    }

    /// Reports received from every keyboard on this controller.
    pub fn reports_received(&self) -> u64 {
        self.devices
            .iter()
            .flatten()
            .filter_map(|d| d.keyboard.as_ref())
            .map(|k| k.received)
            .sum()
    }

    /// Key repeat for every keyboard.
    pub fn repeat_keys(&mut self) {
        let now = time::since_boot();
        for keyboard in self
            .devices
            .iter_mut()
            .flatten()
            .filter_map(|d| d.keyboard.as_mut())
        {
            keyboard.keys.tick(now);
        }
    }

    async fn detach(&mut self, slot: u8) {
        let Some(mut device) = self.devices[usize::from(slot)].take() else {
            return;
        };
        log::info!(
            "usb {}: port {}: device {:04x}:{:04x} removed; slot {slot} disabled",
            Bdf(self.address),
            device.port,
            device.descriptor.vendor,
            device.descriptor.product
        );
        if let Some(mut keyboard) = device.keyboard.take() {
            keyboard.keys.unplug();
            self.spare.push(keyboard.ring.into_page());
            self.spare.push(keyboard.buffers);
        }
        let trb = Trb::new(kind::DISABLE_SLOT, 0, 0, u32::from(slot) << 24);
        if let Err(err) = self.command(trb).await {
            log::warn!(
                "usb {}: slot {slot}: disable failed: {err}",
                Bdf(self.address)
            );
        }
        self.set_dcbaa(slot, x86_64::PhysAddr::zero());
        self.control_done.retain(|e| e.slot() != slot);
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

impl KeyboardEndpoint {
    fn queue_report(&mut self) {
        let index = self.ring.next_index();
        let buffer = self.buffers.phys().as_u64() + (index * REPORT_STRIDE) as u64;
        self.ring.push(Trb::new(kind::NORMAL, buffer, 8, IOC));
    }

    fn report(&self, index: usize) -> [u8; 8] {
        let index = index.min(4096 / REPORT_STRIDE - 1);
        let at = self.buffers.virt().as_ptr::<[u8; 8]>();
        // SAFETY: index * 16 + 8 <= 4096: inside the buffers frame.
        unsafe {
            at.cast::<u8>()
                .add(index * REPORT_STRIDE)
                .cast::<[u8; 8]>()
                .read_volatile()
        }
    }
}
