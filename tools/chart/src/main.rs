//! Draws Pyrite's benchmark chart: the allocator designs beside their peers
//! on the two heap workloads, and boot time beside the trivial-kernel floor.
//!
//!   pyrite-chart build/bench.json docs/bench.svg

use std::error::Error;
use std::fs;

use plotters::prelude::*;
use serde_json::Value;

const ALLOCATORS: [(&str, &str); 6] = [
    ("fixed_size_blocks", "fixed-size blocks"),
    ("linked_list", "linked list"),
    ("bump", "bump"),
    ("linked_list_allocator", "linked_list_allocator"),
    ("talc", "talc"),
    ("malloc", "host malloc"),
];

fn median(results: &Value, key: &str) -> Option<f64> {
    results.get(key)?.get("median")?.as_f64()
}

/// Horizontal bars on a log scale: one per (label, value).
fn bars(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    unit: &str,
    data: &[(String, f64)],
    colour: RGBColor,
) -> Result<(), Box<dyn Error>> {
    let max = data.iter().map(|(_, v)| *v).fold(1.0, f64::max) * 3.0;
    let min = data
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::MAX, f64::min)
        .max(1e-3)
        / 3.0;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(170)
        .build_cartesian_2d((min..max).log_scale(), (0..data.len()).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(unit)
        .y_labels(data.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => data.get(*i).map(|(l, _)| l.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    chart.draw_series(data.iter().enumerate().map(|(i, (_, value))| {
        let mut bar = Rectangle::new(
            [
                (min, SegmentValue::Exact(i)),
                (*value, SegmentValue::Exact(i + 1)),
            ],
            colour.mix(0.8).filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        bar
    }))?;
    chart.draw_series(data.iter().enumerate().map(|(i, (_, value))| {
        Text::new(
            if *value < 10.0 {
                format!("{value:.2}")
            } else {
                format!("{value:.1}")
            },
            (*value * 1.1, SegmentValue::CenterOf(i)),
            ("sans-serif", 13),
        )
    }))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: pyrite-chart BENCH.json OUT.svg".into());
    };
    let results: Value = serde_json::from_str(&fs::read_to_string(input)?)?;

    let root = SVGBackend::new(output, (900, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "Pyrite benchmarks, {} ({})",
        results["date"].as_str().unwrap_or("?"),
        results["machine"].as_str().unwrap_or("?")
    );
    let root = root.titled(&title, ("sans-serif", 20))?;
    let panels = root.split_evenly((3, 1));

    let workload = |key: &str| -> Vec<(String, f64)> {
        ALLOCATORS
            .iter()
            .filter_map(|(id, label)| {
                median(&results, &format!("alloc_{id}_{key}")).map(|v| ((*label).to_string(), v))
            })
            .collect()
    };
    bars(
        &panels[0],
        "heap w1: alloc+free pairs of 16-64 bytes (host)",
        "ns per pair, log scale (lower is better)",
        &workload("w1_small_pairs"),
        BLUE,
    )?;
    bars(
        &panels[1],
        "heap w2: 10 000 live objects of 8-4096 bytes, freed in random order (host)",
        "ns per operation, log scale (lower is better)",
        &workload("w2_mixed_live"),
        GREEN,
    )?;
    let boot: Vec<(String, f64)> = [
        ("Pyrite, BIOS", "boot_s_bios"),
        ("floor, BIOS", "boot_floor_s_bios"),
        ("Pyrite, UEFI", "boot_s_uefi"),
        ("floor, UEFI", "boot_floor_s_uefi"),
    ]
    .iter()
    .filter_map(|(label, key)| median(&results, key).map(|v| ((*label).to_string(), v)))
    .collect();
    bars(
        &panels[2],
        "boot: QEMU start to the shell prompt, beside a trivial Multiboot2 kernel",
        "seconds, log scale (lower is better)",
        &boot,
        RED,
    )?;
    root.present()?;
    println!("wrote {output}");
    Ok(())
}
