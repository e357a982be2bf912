//! The boot log's ACPI lines, built from the facts (pure, so host tests
//! check them).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::facts::{InterruptFacts, Polarity, Trigger};
use super::fadt::PowerFacts;
use super::hpet::HpetFacts;
use super::mcfg::EcamRegion;

/// How many APIC ids a line lists before it shortens.
const IDS_SHOWN: usize = 16;

/// "4 CPUs (APIC ids 0-3), 1 IOAPIC (id 0 at 0xfec00000, GSI base 0), 5
/// overrides: IRQ 0 -> GSI 2, IRQ 9 -> GSI 9 level active-high, ...".
pub fn interrupts(facts: &InterruptFacts) -> String {
    let mut line = cpus(facts);
    io_apics(&mut line, facts);
    overrides(&mut line, facts);
    let _ = write!(
        line,
        "; {} local NMI{}; local APIC at {:#x}; {}",
        facts.local_nmis.len(),
        plural(facts.local_nmis.len()),
        facts.local_apic_address,
        if facts.has_8259 {
            "8259 PICs present"
        } else {
            "no 8259 PICs"
        }
    );
    line
}

/// "4 CPUs (APIC ids 0-3) + 1 online-capable".
fn cpus(facts: &InterruptFacts) -> String {
    let enabled: Vec<u32> = facts
        .local_apics
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.apic_id)
        .collect();
    let mut line = format!(
        "{} CPU{} (APIC ids {})",
        enabled.len(),
        plural(enabled.len()),
        id_list(&enabled)
    );
    let spare = facts
        .local_apics
        .iter()
        .filter(|c| !c.enabled && c.online_capable)
        .count();
    if spare > 0 {
        let _ = write!(line, " + {spare} online-capable");
    }
    line
}

/// ", 1 IOAPIC (id 0 at 0xfec00000, GSI base 0)".
fn io_apics(line: &mut String, facts: &InterruptFacts) {
    let count = facts.io_apics.len();
    let _ = write!(line, ", {count} IOAPIC{}", plural(count));
    for (i, io) in facts.io_apics.iter().enumerate() {
        let _ = write!(
            line,
            "{}id {} at {:#x}, GSI base {}",
            if i == 0 { " (" } else { "; " },
            io.id,
            io.address,
            io.gsi_base
        );
    }
    if count > 0 {
        line.push(')');
    }
}

/// ", 2 overrides: IRQ 0 -> GSI 2, IRQ 9 -> GSI 9 level active-high".
fn overrides(line: &mut String, facts: &InterruptFacts) {
    let count = facts.overrides.len();
    let _ = write!(line, ", {count} override{}", plural(count));
    for (i, o) in facts.overrides.iter().enumerate() {
        let _ = write!(
            line,
            "{}IRQ {} -> GSI {}",
            if i == 0 { ": " } else { ", " },
            o.isa_irq,
            o.gsi
        );
        if o.trigger != Trigger::BusDefault || o.polarity != Polarity::BusDefault {
            let _ = write!(line, " {} {}", trigger(o.trigger), polarity(o.polarity));
        }
    }
}

/// "FADT reset register I/O 0xcf9 value 0x6, PM1a control I/O 0x604, ...".
pub fn power(power: &PowerFacts) -> String {
    let mut line = String::from("FADT ");
    match power.reset {
        Some(reset) => {
            let _ = write!(
                line,
                "reset register {} value {:#x}{}",
                reset.register,
                reset.value,
                if reset.supported {
                    ""
                } else {
                    " (not flagged as supported)"
                }
            );
        }
        None => line.push_str("no reset register"),
    }
    match power.pm1a_control {
        Some(r) => {
            let _ = write!(line, ", PM1a control {r}");
        }
        None => line.push_str(", no PM1a control block"),
    }
    if let Some(r) = power.pm1b_control {
        let _ = write!(line, ", PM1b control {r}");
    }
    let _ = write!(line, ", SCI IRQ {}", power.sci_interrupt);
    if let Some((port, value)) = power.acpi_enable {
        let _ = write!(line, ", SMI command {port:#x} (ACPI enable {value:#x})");
    }
    line.push_str(if power.has_8042 {
        ", 8042 present"
    } else {
        ", no 8042"
    });
    if power.hardware_reduced {
        line.push_str(", hardware-reduced");
    }
    line
}

/// "HPET at 0xfed00000, 3 comparators, 64-bit".
pub fn hpet(hpet: &HpetFacts) -> String {
    format!(
        "HPET at {:#x}, {} comparator{}, {}-bit",
        hpet.address,
        hpet.comparators,
        plural(usize::from(hpet.comparators)),
        if hpet.counter_64bit { 64 } else { 32 }
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "0-3" for a contiguous run, else "0, 2, 5" (shortened after
/// [`IDS_SHOWN`]); "none" if empty.
fn id_list(ids: &[u32]) -> String {
    match ids {
        [] => String::from("none"),
        [one] => format!("{one}"),
        [first, .., last] if ids.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}-{last}")
        }
        _ => {
            let mut out = String::new();
            for (i, id) in ids.iter().take(IDS_SHOWN).enumerate() {
                let _ = write!(out, "{}{id}", if i == 0 { "" } else { ", " });
            }
            if ids.len() > IDS_SHOWN {
                out.push_str(", ...");
            }
            out
        }
    }
}

fn trigger(t: Trigger) -> &'static str {
    match t {
        Trigger::BusDefault => "bus-trigger",
        Trigger::Edge => "edge",
        Trigger::Level => "level",
    }
}

fn polarity(p: Polarity) -> &'static str {
    match p {
        Polarity::BusDefault => "bus-polarity",
        Polarity::ActiveHigh => "active-high",
        Polarity::ActiveLow => "active-low",
    }
}

/// "MCFG: ECAM for segment 0 buses 0-255 at 0xb0000000".
pub fn mcfg(regions: &[EcamRegion]) -> String {
    if regions.is_empty() {
        return String::from("MCFG lists no region: PCI configuration through ports");
    }
    let mut line = String::from("MCFG: ECAM for");
    for (i, r) in regions.iter().enumerate() {
        let _ = write!(
            line,
            "{} segment {} buses {}-{} at {:#x}",
            if i == 0 { "" } else { "," },
            r.segment,
            r.start_bus,
            r.end_bus,
            r.base
        );
    }
    line
}
