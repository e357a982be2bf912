//! The OS benchmarks panel: each figure of the benchmark program
//! (user/bench/bench.c) on Pyrite beside Linux in the same QEMU, from
//! bench.json's `pyrite_os` and `linux` sections. One log axis in
//! nanoseconds holds them all, since they span from a system call to a
//! process start.

use serde_json::Value;

use crate::panel::{self, Dot};

/// (figure, row label), in the order the table prints them; labels short
/// enough for the row label column with ", Pyrite" after them.
const FIGURES: [(&str, &str); 7] = [
    ("os_null_syscall", "null system call"),
    ("os_thread_switch_futex", "switch, futex"),
    ("os_sched_yield_switch", "switch, sched_yield"),
    ("os_page_fault", "page fault"),
    ("os_spawn_exit_wait", "spawn + exit + wait"),
    ("os_fork_exec_exit_wait", "fork + exec + exit + wait"),
    ("os_nanosleep_1ms_oversleep_median", "1 ms sleep, late by"),
];

/// Pyrite / Linux at most this meets the target.
const TARGET_RATIO: f64 = 1.0;

/// A figure's median in nanoseconds, from its unit (`ns/call`, `us`, ...).
fn nanoseconds(figure: &Value) -> Option<f64> {
    let value = figure.get("median")?.as_f64()?;
    let unit = figure.get("unit")?.as_str()?;
    let scale = match unit.split('/').next()? {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(value * scale)
}

fn figure_ns(results: &Value, section: &str, id: &str) -> Option<f64> {
    nanoseconds(results.get(section)?.get("figures")?.get(id)?)
}

fn human(ns: f64) -> String {
    match ns {
        v if v >= 1e6 => format!("{} ms", panel::short(v / 1e6)),
        v if v >= 1e3 => format!("{} us", panel::short(v / 1e3)),
        v => format!("{} ns", panel::short(v)),
    }
}

/// A dot per figure and kernel that has it: Pyrite in `pyrite_colour`,
/// Linux in `linux_colour`.
pub fn dots(results: &Value, pyrite_colour: &'static str, linux_colour: &'static str) -> Vec<Dot> {
    let mut dots = Vec::new();
    for (id, label) in FIGURES {
        for (section, who, colour) in [
            ("pyrite_os", "Pyrite", pyrite_colour),
            ("linux", "Linux", linux_colour),
        ] {
            if let Some(ns) = figure_ns(results, section, id) {
                dots.push(Dot {
                    label: format!("{label}, {who}"),
                    value: ns,
                    text: human(ns),
                    colour,
                    hollow: false,
                });
            }
        }
    }
    dots
}

/// Why Pyrite has no figures or skipped some, and each ratio with its
/// verdict.
pub fn notes(results: &Value) -> Vec<String> {
    let mut notes = Vec::new();
    let pyrite = results.get("pyrite_os");
    if let Some(missing) = pyrite
        .and_then(|p| p.get("missing"))
        .and_then(Value::as_str)
    {
        notes.push(format!("Pyrite: {missing}"));
    }
    for (id, label) in FIGURES {
        let skipped = pyrite
            .and_then(|p| p.get("skipped")?.get(id))
            .and_then(Value::as_str);
        if let Some(reason) = skipped {
            notes.push(format!("{label}: Pyrite skipped it ({reason})"));
        }
        let ours = figure_ns(results, "pyrite_os", id);
        let theirs = figure_ns(results, "linux", id).filter(|v| *v > 0.0);
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            let ratio = ours / theirs;
            let verdict = if ratio <= TARGET_RATIO {
                "met"
            } else {
                "missed"
            };
            notes.push(format!(
                "{label}: Pyrite / Linux {ratio:.2}x, target at most {TARGET_RATIO:.1}x: {verdict}"
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> Value {
        serde_json::json!({"figures": {
            "os_null_syscall": {"median": 400.0, "unit": "ns/call"},
            "os_spawn_exit_wait": {"median": 1400.0, "unit": "us/process"},
            "os_page_fault": {"median": 5000.0, "unit": "ns/page"},
        }})
    }

    #[test]
    fn linux_alone_gives_its_dots_and_says_why_pyrite_has_none() {
        let results = serde_json::json!({"linux": linux(),
            "pyrite_os": {"missing": "not yet (no user mode)"}});
        let dots = dots(&results, "blue", "orange");
        let labels: Vec<&str> = dots.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "null system call, Linux",
                "page fault, Linux",
                "spawn + exit + wait, Linux"
            ]
        );
        assert_eq!(dots[2].value, 1.4e6);
        assert_eq!(dots[2].text, "1.40 ms");
        assert_eq!(notes(&results), ["Pyrite: not yet (no user mode)"]);
    }

    #[test]
    fn both_kernels_give_ratios_with_verdicts_and_skips_are_named() {
        let results = serde_json::json!({"linux": linux(), "pyrite_os": {
            "figures": {
                "os_null_syscall": {"median": 200.0, "unit": "ns/call"},
                "os_spawn_exit_wait": {"median": 9.9, "unit": "ms/process"},
            },
            "skipped": {"os_page_fault": "Function not implemented"}}});
        let notes = notes(&results);
        assert_eq!(
            notes,
            [
                "null system call: Pyrite / Linux 0.50x, target at most 1.0x: met",
                "page fault: Pyrite skipped it (Function not implemented)",
                "spawn + exit + wait: Pyrite / Linux 7.07x, target at most 1.0x: missed",
            ]
        );
        let dots = dots(&results, "blue", "orange");
        assert_eq!(dots[0].label, "null system call, Pyrite");
        assert_eq!(dots[0].colour, "blue");
        assert_eq!(dots.len(), 5);
    }
}
