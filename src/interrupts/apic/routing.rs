//! Where an ISA interrupt arrives on the I/O APICs: a pure function of the
//! MADT's facts, so it is tested on the host with hand-built machines.
//!
//! An ISA IRQ arrives on the GSI of the same number, active high and edge
//! triggered, unless an interrupt source override says otherwise (the usual
//! one moves the PIT's IRQ 0 to GSI 2). An override's "bus default" keeps
//! ISA's polarity or trigger.

use core::fmt;

use crate::acpi::facts::{InterruptFacts, IoApicInfo, Polarity, Trigger};

/// Pins one I/O APIC has at most: its redirection-entry count is 8 bits.
pub const MAX_PINS: u32 = 256;

/// Where an ISA IRQ comes in, and how its line behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The index of the I/O APIC in the facts' list.
    pub io_apic: usize,
    /// The pin on that I/O APIC.
    pub pin: u8,
    /// The global system interrupt.
    pub gsi: u32,
    /// True if the line is active low.
    pub active_low: bool,
    /// True if the line is level triggered.
    pub level: bool,
}

/// Why an ISA IRQ has no route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// The MADT lists no I/O APIC.
    NoIoApic,
    /// The IRQ's GSI lies outside every I/O APIC's pins.
    OutsideEveryIoApic {
        /// The ISA IRQ.
        irq: u8,
        /// Its GSI.
        gsi: u32,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoIoApic => f.write_str("the MADT lists no I/O APIC"),
            Self::OutsideEveryIoApic { irq, gsi } => {
                write!(f, "ISA IRQ {irq} goes to GSI {gsi}, outside every I/O APIC")
            }
        }
    }
}

/// The route of ISA IRQ `irq`, each I/O APIC serving `pins(i)` pins from its
/// GSI base (the count comes from the chip's version register).
pub fn route_isa(
    facts: &InterruptFacts,
    pins: impl Fn(usize) -> u32,
    irq: u8,
) -> Result<Route, RouteError> {
    if facts.io_apics.is_empty() {
        return Err(RouteError::NoIoApic);
    }
    let over = facts.overrides.iter().find(|o| o.isa_irq == irq);
    let gsi = over.map_or(u32::from(irq), |o| o.gsi);
    let active_low = over.is_some_and(|o| o.polarity == Polarity::ActiveLow);
    let level = over.is_some_and(|o| o.trigger == Trigger::Level);
    let (io_apic, pin) =
        find_pin(&facts.io_apics, pins, gsi).ok_or(RouteError::OutsideEveryIoApic { irq, gsi })?;
    Ok(Route {
        io_apic,
        pin,
        gsi,
        active_low,
        level,
    })
}

/// The I/O APIC whose pins cover `gsi`, and the pin.
fn find_pin(io_apics: &[IoApicInfo], pins: impl Fn(usize) -> u32, gsi: u32) -> Option<(usize, u8)> {
    io_apics.iter().enumerate().find_map(|(i, chip)| {
        let offset = gsi.checked_sub(chip.gsi_base)?;
        (offset < pins(i).min(MAX_PINS)).then_some((i, offset as u8))
    })
}

/// The ISA IRQs.
pub const ISA_IRQS: u8 = 16;

/// Checks that every ISA IRQ has a route (none arrives through an override
/// that points nowhere, or on a GSI no I/O APIC serves), so that the APIC
/// can take over every line a driver may register: the first problem, to
/// report.
pub fn check_isa_routes(
    facts: &InterruptFacts,
    pins: impl Fn(usize) -> u32 + Copy,
) -> Result<(), RouteError> {
    (0..ISA_IRQS).try_for_each(|irq| route_isa(facts, pins, irq).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::acpi::facts::IsaOverride;

    fn chip(id: u8, gsi_base: u32) -> IoApicInfo {
        IoApicInfo {
            id,
            address: 0xFEC0_0000 + u64::from(id) * 0x1000,
            gsi_base,
        }
    }

    fn machine(
        io_apics: alloc::vec::Vec<IoApicInfo>,
        overrides: alloc::vec::Vec<IsaOverride>,
    ) -> InterruptFacts {
        InterruptFacts {
            local_apic_address: 0xFEE0_0000,
            io_apics,
            overrides,
            has_8259: true,
            ..InterruptFacts::default()
        }
    }

    const PINS: fn(usize) -> u32 = |_| 24;

    #[test]
    fn without_an_override_isa_is_identity_mapped_high_and_edge() {
        let facts = machine(vec![chip(0, 0)], vec![]);
        let route = route_isa(&facts, PINS, 1).unwrap();
        assert_eq!(
            route,
            Route {
                io_apic: 0,
                pin: 1,
                gsi: 1,
                active_low: false,
                level: false
            }
        );
    }

    #[test]
    fn irq0_moved_to_gsi2_with_bus_defaults() {
        let over = IsaOverride {
            isa_irq: 0,
            gsi: 2,
            polarity: Polarity::BusDefault,
            trigger: Trigger::BusDefault,
        };
        let facts = machine(vec![chip(0, 0)], vec![over]);
        let route = route_isa(&facts, PINS, 0).unwrap();
        assert_eq!(
            (route.pin, route.gsi, route.active_low, route.level),
            (2, 2, false, false)
        );
        // Other lines keep their identity mapping.
        assert_eq!(route_isa(&facts, PINS, 4).unwrap().pin, 4);
    }

    #[test]
    fn an_override_flips_polarity_and_trigger() {
        let over = IsaOverride {
            isa_irq: 9,
            gsi: 9,
            polarity: Polarity::ActiveLow,
            trigger: Trigger::Level,
        };
        let facts = machine(vec![chip(0, 0)], vec![over]);
        let route = route_isa(&facts, PINS, 9).unwrap();
        assert!(route.active_low && route.level, "{route:?}");
        let high = IsaOverride {
            polarity: Polarity::ActiveHigh,
            trigger: Trigger::Edge,
            ..over
        };
        let facts = machine(vec![chip(0, 0)], vec![high]);
        let route = route_isa(&facts, PINS, 9).unwrap();
        assert!(!route.active_low && !route.level, "{route:?}");
    }

    #[test]
    fn two_io_apics_split_the_gsis() {
        let over = IsaOverride {
            isa_irq: 4,
            gsi: 30,
            polarity: Polarity::BusDefault,
            trigger: Trigger::BusDefault,
        };
        let facts = machine(vec![chip(0, 0), chip(1, 24)], vec![over]);
        let first = route_isa(&facts, PINS, 1).unwrap();
        assert_eq!((first.io_apic, first.pin), (0, 1));
        let second = route_isa(&facts, PINS, 4).unwrap();
        assert_eq!((second.io_apic, second.pin, second.gsi), (1, 6, 30));
        assert_eq!(check_isa_routes(&facts, PINS), Ok(()));
        // A first chip with fewer pins leaves GSI 20 to nobody.
        let small = |i: usize| if i == 0 { 16 } else { 24 };
        let over20 = IsaOverride { gsi: 20, ..over };
        let facts = machine(vec![chip(0, 0), chip(1, 24)], vec![over20]);
        assert_eq!(
            route_isa(&facts, small, 4),
            Err(RouteError::OutsideEveryIoApic { irq: 4, gsi: 20 })
        );
    }

    #[test]
    fn an_override_outside_every_io_apic_is_an_error() {
        let over = IsaOverride {
            isa_irq: 1,
            gsi: 99,
            polarity: Polarity::BusDefault,
            trigger: Trigger::BusDefault,
        };
        let facts = machine(vec![chip(0, 0)], vec![over]);
        let err = RouteError::OutsideEveryIoApic { irq: 1, gsi: 99 };
        assert_eq!(route_isa(&facts, PINS, 1), Err(err));
        assert_eq!(check_isa_routes(&facts, PINS), Err(err));
        assert_eq!(
            alloc::format!("{err}"),
            "ISA IRQ 1 goes to GSI 99, outside every I/O APIC"
        );
    }

    #[test]
    fn an_io_apic_that_misses_isa_lines_is_found_at_the_check() {
        // One chip, serving GSIs 24-47 only: no ISA line reaches it.
        let facts = machine(vec![chip(0, 24)], vec![]);
        assert_eq!(
            check_isa_routes(&facts, PINS),
            Err(RouteError::OutsideEveryIoApic { irq: 0, gsi: 0 })
        );
    }

    #[test]
    fn no_io_apic_is_an_error() {
        let facts = machine(vec![], vec![]);
        assert_eq!(route_isa(&facts, PINS, 1), Err(RouteError::NoIoApic));
        assert_eq!(check_isa_routes(&facts, PINS), Err(RouteError::NoIoApic));
    }
}
