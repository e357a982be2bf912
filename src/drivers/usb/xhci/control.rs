//! Control transfers on a device's endpoint 0 (USB 2.0, 9.3; xHCI 1.2,
//! 4.11.2.2): a setup stage, an IN data stage when data is asked for, and
//! a status stage, each a TRB on the endpoint's ring.

use alloc::vec::Vec;
use core::time::Duration;

use super::ring::{IDT, IOC, Trb, code, kind};
use super::{Controller, XhciError};
use crate::time;

/// How long a control transfer may take.
const CONTROL_LIMIT: Duration = Duration::from_millis(500);

/// Standard request: GET_DESCRIPTOR.
pub const GET_DESCRIPTOR: u8 = 6;
/// Standard request: SET_CONFIGURATION.
pub const SET_CONFIGURATION: u8 = 9;
/// HID class request: SET_IDLE.
pub const SET_IDLE: u8 = 0x0A;
/// HID class request: SET_PROTOCOL.
pub const SET_PROTOCOL: u8 = 0x0B;
/// bmRequestType: standard, device, IN.
pub const DEVICE_TO_HOST: u8 = 0x80;
/// bmRequestType: class, interface, OUT.
pub const CLASS_INTERFACE: u8 = 0x21;

impl Controller {
    pub(super) async fn get_descriptor(
        &mut self,
        slot: u8,
        kind: u8,
        length: u16,
    ) -> Result<Vec<u8>, XhciError> {
        let value = u16::from(kind) << 8;
        self.control(slot, DEVICE_TO_HOST, GET_DESCRIPTOR, value, 0, length)
            .await?;
        let buffer = self.device(slot)?.buffer.virt().as_ptr::<u8>();
        // SAFETY: the buffer frame is the device's own and holds at least
        // `length` <= 4096 bytes, just written by the controller.
        let bytes = unsafe { core::slice::from_raw_parts(buffer, usize::from(length)) };
        Ok(bytes.to_vec())
    }

    /// A control transfer on endpoint 0: setup, an IN data stage if
    /// `length` > 0, status. Data lands in the device's buffer frame,
    /// zeroed first (a short answer leaves zeros, which the descriptor
    /// checks refuse).
    pub(super) async fn control(
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
        let device = self.device(slot)?;
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
        let status_trb = device
            .ep0
            .push(Trb::new(kind::STATUS, 0, 0, IOC | status_in))
            .as_u64();
        self.ring_doorbell(slot, 1);
        let deadline = time::since_boot() + CONTROL_LIMIT;
        for _ in 0..CONTROL_LIMIT.as_millis() {
            self.poll();
            // The event names the TRB it completes: only this transfer's
            // status stage counts, never a late event of one that timed out.
            let ours = |e: &Trb| e.slot() == slot && e.parameter == status_trb;
            if let Some(i) = self.control_done.iter().position(ours) {
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
}
