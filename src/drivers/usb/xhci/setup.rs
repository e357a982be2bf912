//! Taking a controller over: the firmware's hand-off (USB legacy support
//! capability), halt and reset, and the extended capabilities that say
//! which ports speak USB 2 and which USB 3.

use alloc::vec::Vec;
use core::time::Duration;

use super::regs::*;
use super::{XhciError, wait_until};

/// How long the firmware gets to give the controller up.
const BIOS_HANDOFF: Duration = Duration::from_secs(1);
/// How long halting and resetting may take.
const RESET_LIMIT: Duration = Duration::from_secs(1);

/// Asks the firmware to give the controller up (USB legacy support
/// capability) and turns off its SMIs. A firmware that does not let go
/// in time is overruled, with a warning.
pub async fn take_from_firmware(cap: Mmio, xecp: u64) {
    let Some(legacy) = find_capability(cap, xecp, XCAP_LEGACY) else {
        return;
    };
    let block = cap.at(legacy);
    block.write(0, block.read(0) | LEGACY_OS_OWNED);
    let released = wait_until(
        "the firmware to release the controller",
        BIOS_HANDOFF,
        || block.read(0) & LEGACY_BIOS_OWNED == 0,
    )
    .await;
    if released.is_err() {
        log::warn!(
            "xhci: the firmware kept the controller past {BIOS_HANDOFF:?}; taking it anyway"
        );
        block.write(0, block.read(0) & !LEGACY_BIOS_OWNED);
    }
    // SMI enables off; the write-1-to-clear event bits cleared.
    block.write(4, (block.read(4) & 0x000E_1FEE) | 0xE000_0000);
}

/// Halts and resets the controller.
pub async fn reset(op: Mmio) -> Result<(), XhciError> {
    wait_until("the controller to be ready (CNR)", RESET_LIMIT, || {
        op.read(USBSTS) & STS_NOT_READY == 0
    })
    .await?;
    op.write(USBCMD, op.read(USBCMD) & !CMD_RUN);
    wait_until("the controller to halt", RESET_LIMIT, || {
        op.read(USBSTS) & STS_HALTED != 0
    })
    .await?;
    op.write(USBCMD, CMD_RESET);
    wait_until("the reset to finish (HCRST)", RESET_LIMIT, || {
        op.read(USBCMD) & CMD_RESET == 0 && op.read(USBSTS) & STS_NOT_READY == 0
    })
    .await
}

/// Walks the extended capabilities for the first with `id`; returns its
/// offset. At most 256 steps, so a looping list cannot hold the walk.
fn find_capability(cap: Mmio, xecp: u64, id: u8) -> Option<u64> {
    capabilities(cap, xecp)
        .find(|&(_, cid)| cid == id)
        .map(|(at, _)| at)
}

fn capabilities(cap: Mmio, xecp: u64) -> impl Iterator<Item = (u64, u8)> {
    let mut at = (xecp != 0).then_some(xecp);
    core::iter::from_fn(move || {
        let here = at?;
        let word = cap.read(here);
        let next = u64::from((word >> 8) & 0xFF) * 4;
        at = (next != 0 && here + next < 0x10000).then_some(here + next);
        Some((here, word as u8))
    })
    .take(256)
}

/// Each port's USB major version, from the supported-protocol capabilities.
pub fn port_versions(cap: Mmio, xecp: u64, ports: u8) -> Vec<u8> {
    let mut versions = alloc::vec![0u8; usize::from(ports)];
    for (at, id) in capabilities(cap, xecp) {
        if id != XCAP_PROTOCOL {
            continue;
        }
        let major = (cap.read(at) >> 24) as u8;
        let range = cap.read(at + 8);
        let (first, count) = (range as u8, (range >> 8) as u8);
        for port in first..first.saturating_add(count) {
            if let Some(v) = versions.get_mut(usize::from(port).wrapping_sub(1)) {
                *v = major;
            }
        }
    }
    versions
}
