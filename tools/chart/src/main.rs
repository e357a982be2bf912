//! Draws Pyrite's benchmark chart from the results `make bench` wrote:
//! the heap designs beside other allocators (dots on a log axis, since the
//! figures span decades), and boot time beside the trivial-kernel floor
//! (bars from zero, so their lengths compare), and the OS benchmarks on
//! Pyrite beside Linux (dots on a log axis).
//!
//!   pyrite-chart build/bench.json build/bench.svg

mod axis;
mod os;
mod panel;
mod svg;

use std::error::Error;
use std::fs;

use serde_json::Value;

use panel::{Bar, Dot, Layout};
use svg::{Anchor, Font, Svg};

/// Pyrite's own heap designs: one colour family (blues).
const PYRITE: [&str; 3] = ["#1d4e89", "#2f7ed8", "#7fb2ee"];
/// Other allocators, for comparison: another family (oranges).
const PEERS: [&str; 3] = ["#b54708", "#e07b24", "#f0b35e"];
/// The floor kernel: a neutral grey.
const FLOOR: &str = "#9a9a9a";
const TEXT: &str = "#222222";
const QUIET: &str = "#555555";

/// (id in bench.json, row label, colour, note if its figure misleads).
const ALLOCATORS: [(&str, &str, &str, Option<&str>); 6] = [
    (
        "fixed_size_blocks",
        "Pyrite: fixed-size blocks",
        PYRITE[0],
        None,
    ),
    ("linked_list", "Pyrite: linked list", PYRITE[1], None),
    (
        "bump",
        "Pyrite: bump *",
        PYRITE[2],
        Some("* bump never frees: memory is never reused, so its speed here is no real win"),
    ),
    (
        "linked_list_allocator",
        "crate: linked_list_allocator",
        PEERS[0],
        None,
    ),
    ("talc", "crate: talc", PEERS[1], None),
    ("malloc", "host malloc (glibc)", PEERS[2], None),
];

fn median(results: &Value, key: &str) -> Option<f64> {
    results.get(key)?.get("median")?.as_f64()
}

fn allocator_dots(results: &Value, workload: &str, unit: &str) -> Vec<Dot> {
    ALLOCATORS
        .iter()
        .filter_map(|(id, label, colour, note)| {
            let value = median(results, &format!("alloc_{id}_{workload}"))?;
            Some(Dot {
                label: (*label).to_string(),
                value,
                text: format!("{} {unit}", panel::short(value)),
                colour,
                hollow: note.is_some(),
            })
        })
        .collect()
}

fn allocator_notes(results: &Value, workload: &str) -> Vec<String> {
    ALLOCATORS
        .iter()
        .filter(|(id, ..)| results.get(format!("alloc_{id}_{workload}")).is_some())
        .filter_map(|(.., note)| note.map(str::to_string))
        .collect()
}

fn boot_bars(results: &Value) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (firmware, name) in [("bios", "BIOS"), ("uefi", "UEFI")] {
        for (key, label, colour) in [
            (
                format!("boot_s_{firmware}"),
                format!("Pyrite, {name}"),
                PYRITE[0],
            ),
            (
                format!("boot_floor_s_{firmware}"),
                format!("floor, {name}"),
                FLOOR,
            ),
        ] {
            let Some(figures) = results.get(&key) else {
                continue;
            };
            let get = |k: &str| figures.get(k).and_then(Value::as_f64);
            let Some(value) = get("median") else { continue };
            bars.push(Bar {
                label,
                value,
                range: get("min").zip(get("max")),
                text: format!("{value:.2} s"),
                colour,
            });
        }
    }
    bars
}

/// One line per figure with a target: its value, the target, met or missed.
fn target_notes(results: &Value) -> Vec<(String, bool)> {
    let targets = results.get("targets").and_then(Value::as_object);
    let mut notes = Vec::new();
    for (key, target) in targets.into_iter().flatten() {
        let Some(target) = target.as_object() else {
            continue;
        };
        let value = results
            .get(key)
            .and_then(|v| v.as_f64().or_else(|| v.get("median")?.as_f64()));
        let (Some(value), Some(limit), Some(name)) = (
            value,
            target.get("at_most").and_then(Value::as_f64),
            target.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let unit = target.get("unit").and_then(Value::as_str).unwrap_or("");
        let met = value <= limit;
        let verdict = if met { "met" } else { "missed" };
        notes.push((
            format!("{name}: {value:.2}{unit}, target at most {limit:.2}{unit}: {verdict}"),
            met,
        ));
    }
    notes
}

fn header(svg: &mut Svg, results: &Value) -> f64 {
    let title = format!(
        "Pyrite benchmarks, {}",
        results["date"].as_str().unwrap_or("?")
    );
    svg.text(20.0, 32.0, Anchor::Start, Font::bold(20, TEXT), &title);
    let runs = results["runs"].as_u64().unwrap_or(0);
    let machine = format!(
        "{}; medians of {runs} run{}; min-max shown where measured. A shared machine: expect noise.",
        results["machine"].as_str().unwrap_or("?"),
        if runs == 1 { "" } else { "s" }
    );
    svg.text(20.0, 54.0, Anchor::Start, Font::plain(13, QUIET), &machine);
    let legend: [(&str, &str); 3] = [
        (PYRITE[1], "Pyrite's own designs"),
        (PEERS[1], "other allocators: crates and the host's malloc"),
        (FLOOR, "floor: a trivial kernel booted the same way"),
    ];
    let mut x = 26.0;
    for (colour, text) in legend {
        svg.dot(x, 77.0, 6.0, colour, false);
        svg.text(x + 12.0, 82.0, Anchor::Start, Font::plain(13, TEXT), text);
        x += 24.0 + panel::text_width(text, 13);
    }
    100.0
}

fn draw(results: &Value) -> String {
    let layout = Layout::new(1000.0);
    let mut svg = Svg::new(layout.width as u32);
    let mut y = header(&mut svg, results);
    for (workload, title, unit, per) in [
        (
            "w1_small_pairs",
            "Heap w1: alloc and free pairs of 16-64 bytes (host)",
            "ns",
            "ns per pair",
        ),
        (
            "w2_mixed_live",
            "Heap w2: 10 000 live objects of 8-4096 bytes, freed in random order (host)",
            "ns",
            "ns per operation",
        ),
    ] {
        let dots = allocator_dots(results, workload, unit);
        if dots.is_empty() {
            continue;
        }
        let subtitle =
            format!("{per}, log scale: each labelled line is ten times the last; lower is better");
        let notes = allocator_notes(results, workload);
        y = layout.dots(&mut svg, y, (title, &subtitle), &dots, &notes);
    }
    let bars = boot_bars(results);
    if !bars.is_empty() {
        let notes: Vec<(String, bool)> = target_notes(results);
        y = layout.bars(
            &mut svg,
            y,
            (
                "Boot: QEMU start to the shell prompt, beside the floor",
                "seconds, from zero; lower is better",
            ),
            &bars,
            &notes,
        );
    }
    let dots = os::dots(results, PYRITE[0], PEERS[0]);
    if !dots.is_empty() {
        y = layout.dots(
            &mut svg,
            y,
            (
                "OS benchmarks: the same program on Pyrite and on Linux, in the same QEMU",
                "nanoseconds per operation, log scale: each labelled line is ten times the last; lower is better",
            ),
            &dots,
            &os::notes(results),
        );
    }
    svg.finish(y as u32 + 10)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: pyrite-chart BENCH.json OUT.svg".into());
    };
    let results: Value = serde_json::from_str(&fs::read_to_string(input)?)?;
    fs::write(output, draw(&results))?;
    println!("wrote {output}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let mut results = serde_json::json!({
            "date": "2025-01-01", "machine": "2 cores", "runs": 5,
            "boot_s_bios": {"median": 1.5, "min": 1.4, "max": 1.7},
            "boot_floor_s_bios": {"median": 1.4, "min": 1.3, "max": 1.5},
            "boot_ratio_bios": 1.07,
            "boot_ratio_uefi": 1.2,
            "targets": {
                "boot_ratio_bios": {"name": "boot, BIOS, Pyrite / floor", "at_most": 1.10, "unit": "x"},
                "boot_ratio_uefi": {"name": "boot, UEFI, Pyrite / floor", "at_most": 1.05, "unit": "x"}
            }
        });
        for (i, (id, ..)) in ALLOCATORS.iter().enumerate() {
            results[format!("alloc_{id}_w1_small_pairs")] =
                serde_json::json!({"median": 3.0 * (i + 1) as f64});
            results[format!("alloc_{id}_w2_mixed_live")] =
                serde_json::json!({"median": 40.0 * (i + 1) as f64});
        }
        results
    }

    #[test]
    fn every_allocator_is_drawn_in_its_family_colour() {
        let svg = draw(&sample());
        for (_, label, colour, _) in ALLOCATORS {
            assert_eq!(
                svg.matches(&format!(">{label}</text>")).count(),
                2,
                "{label}"
            );
            assert!(svg.contains(&format!("stroke=\"{colour}\"")), "{label}");
        }
        assert!(PYRITE.iter().all(|c| !PEERS.contains(c)));
    }

    #[test]
    fn bump_carries_its_note_and_targets_say_met_or_missed() {
        let svg = draw(&sample());
        assert_eq!(svg.matches("bump never frees").count(), 2);
        assert!(svg.contains("boot, BIOS, Pyrite / floor: 1.07x, target at most 1.10x: met"));
        assert!(svg.contains("boot, UEFI, Pyrite / floor: 1.20x, target at most 1.05x: missed"));
    }

    #[test]
    fn the_os_panel_shows_linux_and_why_pyrite_is_missing() {
        let mut results = sample();
        results["linux"] = serde_json::json!({"figures": {
            "os_null_syscall": {"median": 400.0, "unit": "ns/call"}}});
        results["pyrite_os"] = serde_json::json!({"missing": "not yet (no user mode)"});
        let svg = draw(&results);
        assert!(svg.contains(">null system call, Linux</text>"), "{svg}");
        assert!(svg.contains("Pyrite: not yet (no user mode)"));
    }

    #[test]
    fn missing_figures_leave_panels_out() {
        let svg = draw(&serde_json::json!({"date": "d", "machine": "m", "runs": 1}));
        assert!(!svg.contains("Heap w1") && !svg.contains("Boot:") && !svg.contains("OS bench"));
    }
}
