//! Axes and their ticks, apart from drawing so they can be tested.
//!
//! Two kinds only, each fit for one mark: a linear axis that starts at zero,
//! for bars (a bar's length then means its value), and a logarithmic axis
//! over whole decades, for dots (where a bar's length would mean nothing).
//! Tick labels are distinct and their values strictly increasing.

/// One labelled tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Where it stands, in the axis's units.
    pub value: f64,
    /// What it says.
    pub label: String,
}

/// A linear axis from zero to a round number at or above the data.
#[derive(Debug, Clone)]
pub struct LinearAxis {
    /// The axis's end.
    pub max: f64,
    /// Ticks at 0, step, 2 step, ... max.
    pub ticks: Vec<Tick>,
}

impl LinearAxis {
    /// An axis from zero that holds `largest` (at least 1 if there is no
    /// positive finite value).
    pub fn covering(largest: f64) -> Self {
        let largest = if largest.is_finite() && largest > 0.0 {
            largest
        } else {
            1.0
        };
        // About five steps of 1, 2 or 5 times a power of ten.
        let rough = largest / 5.0;
        let power = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|s| *s >= rough)
            .unwrap_or(10.0 * power);
        let steps = (largest / step - 1e-9).ceil().max(1.0) as usize;
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        let ticks = (0..=steps)
            .map(|i| {
                let value = step * i as f64;
                Tick {
                    value,
                    label: format!("{value:.decimals$}"),
                }
            })
            .collect();
        Self {
            max: step * steps as f64,
            ticks,
        }
    }

    /// Where `value` lies, 0 at zero and 1 at the end.
    pub fn fraction(&self, value: f64) -> f64 {
        value / self.max
    }
}

/// A logarithmic axis over whole decades.
#[derive(Debug, Clone)]
pub struct LogAxis {
    /// Power of ten at the start.
    pub first: i32,
    /// Power of ten at the end (above `first`).
    pub last: i32,
    /// Labelled ticks: each decade, and 2 and 5 when there is only one.
    pub ticks: Vec<Tick>,
}

impl LogAxis {
    /// The decades that hold every positive finite value in `values`
    /// (1 to 10 if there is none).
    pub fn covering(values: &[f64]) -> Self {
        let usable = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
        let (low, high) = usable.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (first, mut last) = if low > high {
            (0, 1)
        } else {
            (low.log10().floor() as i32, high.log10().ceil() as i32)
        };
        if last <= first {
            last = first + 1;
        }
        let mut ticks = Vec::new();
        for power in first..=last {
            let decade = 10f64.powi(power);
            ticks.push(Tick {
                value: decade,
                label: number(decade),
            });
            if last - first == 1 && power < last {
                for m in [2.0, 5.0] {
                    ticks.push(Tick {
                        value: m * decade,
                        label: number(m * decade),
                    });
                }
            }
        }
        Self { first, last, ticks }
    }

    /// Unlabelled grid lines at 2..9 times each decade.
    pub fn minor(&self) -> Vec<f64> {
        (self.first..self.last)
            .flat_map(|p| (2..10).map(move |m| f64::from(m) * 10f64.powi(p)))
            .collect()
    }

    /// Where `value` lies, 0 at the first decade and 1 at the last.
    pub fn fraction(&self, value: f64) -> f64 {
        (value.log10() - f64::from(self.first)) / f64::from(self.last - self.first)
    }
}

/// A tick's `value` (a digit times a power of ten) with the decimals it
/// needs, and thousands grouped by commas.
fn number(value: f64) -> String {
    let decimals = (-(value.log10() + 1e-9).floor()).max(0.0) as usize;
    let text = format!("{value:.decimals$}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if fraction.is_empty() {
        grouped
    } else {
        format!("{grouped}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ticks(ticks: &[Tick]) {
        for pair in ticks.windows(2) {
            assert!(pair[0].value < pair[1].value, "{ticks:?}");
        }
        let mut labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), ticks.len(), "duplicate labels: {ticks:?}");
    }

    const SAMPLES: [f64; 12] = [
        0.004, 0.05, 0.3, 0.99, 1.0, 1.43, 7.0, 10.0, 19.9, 230.0, 4096.0, 1.2e6,
    ];

    #[test]
    fn linear_axes_start_at_zero_and_hold_the_data() {
        for largest in SAMPLES {
            let axis = LinearAxis::covering(largest);
            check_ticks(&axis.ticks);
            assert_eq!(axis.ticks[0].value, 0.0);
            assert_eq!(axis.fraction(0.0), 0.0, "bars must start at zero");
            assert!(
                axis.max >= largest && axis.max < 2.6 * largest,
                "{largest}: {axis:?}"
            );
            assert_eq!(axis.ticks.last().unwrap().value, axis.max);
            assert!((3..=11).contains(&axis.ticks.len()), "{largest}: {axis:?}");
        }
        assert_eq!(LinearAxis::covering(f64::NAN).max, 1.0);
    }

    #[test]
    fn linear_labels_show_the_step() {
        let labels = |x| -> Vec<String> {
            LinearAxis::covering(x)
                .ticks
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(labels(1.43), ["0.0", "0.5", "1.0", "1.5"]);
        assert_eq!(labels(19.9), ["0", "5", "10", "15", "20"]);
    }

    #[test]
    fn log_axes_cover_the_data_on_whole_decades() {
        for (i, low) in SAMPLES.iter().enumerate() {
            for high in &SAMPLES[i..] {
                let axis = LogAxis::covering(&[*high, *low]);
                check_ticks(&axis.ticks);
                assert!(axis.last > axis.first);
                for v in [*low, *high] {
                    let f = axis.fraction(v);
                    assert!((0.0..=1.0).contains(&f), "{v} at {f} on {axis:?}");
                }
                assert_eq!(axis.fraction(axis.ticks[0].value), 0.0);
                let end = axis.ticks.last().unwrap().value;
                assert!((axis.fraction(end) - 1.0).abs() < 1e-12);
                let minor = axis.minor();
                assert!(minor.windows(2).all(|p| p[0] < p[1]));
            }
        }
    }

    #[test]
    fn log_labels_are_plain_numbers() {
        let labels = |v: &[f64]| -> Vec<String> {
            LogAxis::covering(v)
                .ticks
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(
            labels(&[3.0, 2500.0]),
            ["1", "10", "100", "1,000", "10,000"]
        );
        assert_eq!(labels(&[0.05, 0.9]), ["0.01", "0.1", "1"]);
        assert_eq!(labels(&[2.0, 9.0]), ["1", "2", "5", "10"]);
        assert_eq!(labels(&[0.2, 0.9]), ["0.1", "0.2", "0.5", "1"]);
        // Nothing to show: one plain decade, no panic.
        assert_eq!(labels(&[f64::NAN, -1.0]), ["1", "2", "5", "10"]);
    }
}
