//! A boot keyboard's interrupt-IN endpoint: configured, kept fed with
//! transfers, and its reports handed to the HID code.

use super::context::{self, Endpoint, InputContext};
use super::control::{CLASS_INTERFACE, SET_CONFIGURATION, SET_IDLE, SET_PROTOCOL};
use super::ring::{IOC, ProducerRing, Trb, code, kind};
use super::{Controller, XhciError};
use crate::drivers::pci::Bdf;
use crate::drivers::usb::descriptor;
use crate::drivers::usb::hid::Keyboard;
use crate::memory::dma::DmaPage;
use crate::time;

/// Interrupt-IN transfers kept queued for a keyboard.
const QUEUED_REPORTS: usize = 16;
/// Bytes of buffer per queued report (a boot report is 8).
const REPORT_STRIDE: usize = 16;

/// A boot keyboard's interrupt-IN endpoint and key state.
pub struct KeyboardEndpoint {
    dci: u8,
    ring: ProducerRing,
    buffers: DmaPage,
    keys: Keyboard,
    /// The endpoint's max packet size.
    max_packet: u16,
    /// Reports received.
    pub received: u64,
}

impl Controller {
    /// Sets the device's configuration and starts its keyboard: the
    /// endpoint configured, transfers queued. On failure the frames taken
    /// go back to the spares.
    pub(super) async fn start_keyboard(
        &mut self,
        slot: u8,
        found: descriptor::KeyboardInterface,
    ) -> Result<(), XhciError> {
        let value = u16::from(found.configuration);
        self.control(slot, 0, SET_CONFIGURATION, value, 0, 0)
            .await?;
        let ring = ProducerRing::on(self.page()?);
        let buffers = match self.page() {
            Ok(page) => page,
            Err(err) => {
                self.spare.push(ring.into_page());
                return Err(err);
            }
        };
        let mut endpoint = KeyboardEndpoint {
            dci: found.endpoint * 2 + 1,
            ring,
            buffers,
            keys: Keyboard::default(),
            max_packet: found.max_packet,
            received: 0,
        };
        if let Err(err) = self.enable_endpoint(slot, &found, &endpoint).await {
            self.spare.extend(endpoint.unplug());
            return Err(err);
        }
        for _ in 0..QUEUED_REPORTS {
            endpoint.queue_report();
        }
        let dci = endpoint.dci;
        self.device(slot)?.keyboard = Some(endpoint);
        self.ring_doorbell(slot, dci);
        log::info!(
            "usb {}: slot {slot}: boot keyboard on interface {}, endpoint {:#x} IN",
            Bdf(self.address),
            found.interface,
            found.endpoint | 0x80
        );
        Ok(())
    }

    /// Configures the interrupt-IN endpoint, then asks for the boot
    /// protocol and reports only on change.
    async fn enable_endpoint(
        &mut self,
        slot: u8,
        found: &descriptor::KeyboardInterface,
        endpoint: &KeyboardEndpoint,
    ) -> Result<(), XhciError> {
        let (size, dci) = (self.context_size, endpoint.dci);
        let device = self.device(slot)?;
        let mut input = InputContext::new(&mut device.input, size);
        input.add(1 | 1 << dci);
        input.slot(device.speed, dci, device.port);
        input.endpoint(
            dci,
            &Endpoint {
                kind: context::EP_INTERRUPT_IN,
                max_packet: found.max_packet,
                interval: context::interrupt_interval(device.speed, found.interval),
                ring: endpoint.ring.base().as_u64(),
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

    /// Releases every key held on this controller's keyboards (they will
    /// send no more reports).
    pub(super) fn release_keys(&mut self) {
        for keyboard in self
            .devices
            .iter_mut()
            .flatten()
            .filter_map(|d| d.keyboard.as_mut())
        {
            keyboard.keys.unplug();
        }
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

    /// When a held key next repeats on any of this controller's keyboards.
    pub fn next_repeat(&self) -> Option<core::time::Duration> {
        self.devices
            .iter()
            .flatten()
            .filter_map(|d| d.keyboard.as_ref())
            .filter_map(|k| k.keys.next_repeat())
            .min()
    }
}

impl KeyboardEndpoint {
    /// The keyboard went away: its keys are released; returns its frames.
    pub(super) fn unplug(mut self) -> [DmaPage; 2] {
        self.keys.unplug();
        [self.ring.into_page(), self.buffers]
    }

    fn queue_report(&mut self) {
        let index = self.ring.next_index();
        let buffer = self.buffers.phys().as_u64() + (index * REPORT_STRIDE) as u64;
        // Room for a whole packet (up to the stride): a device that sends
        // more than a boot report's 8 bytes must not overrun the transfer.
        let length = usize::from(self.max_packet).clamp(8, REPORT_STRIDE) as u32;
        self.ring.push(Trb::new(kind::NORMAL, buffer, length, IOC));
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
