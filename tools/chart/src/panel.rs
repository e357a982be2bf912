//! The chart's two kinds of panel: dots on a log axis and bars from zero on
//! a linear one. Each panel is a title, a row per figure, an axis with its
//! labels, and notes below.

use crate::axis::{LinearAxis, LogAxis};
use crate::svg::{Anchor, Font, Svg};

const ROW: f64 = 26.0;
const GRID: &str = "#c8c8c8";
const GRID_MINOR: &str = "#ececec";
const TEXT: &str = "#222222";
const QUIET: &str = "#555555";
const MET: &str = "#1a7f37";
const MISSED: &str = "#c62828";

/// One figure shown as a dot.
pub struct Dot {
    /// Row label.
    pub label: String,
    /// The figure (positive).
    pub value: f64,
    /// What the dot's label says.
    pub text: String,
    /// Its colour.
    pub colour: &'static str,
    /// Drawn hollow: the figure has a note.
    pub hollow: bool,
}

/// One figure shown as a bar from zero, with its min-max range if known.
pub struct Bar {
    /// Row label.
    pub label: String,
    /// The figure (the bar's end).
    pub value: f64,
    /// Smallest and largest run.
    pub range: Option<(f64, f64)>,
    /// What the bar's label says.
    pub text: String,
    /// Its colour.
    pub colour: &'static str,
}

/// Where panels go across the page.
pub struct Layout {
    /// Page width.
    pub width: f64,
    /// Left edge of the plot (row labels end here).
    left: f64,
    /// Right edge of the plot (value labels may pass it).
    right: f64,
}

/// About how wide `text` is in pixels at `size` (for placing legends).
pub fn text_width(text: &str, size: u32) -> f64 {
    text.chars().count() as f64 * f64::from(size) * 0.55
}

/// `value` with three significant digits or its whole part, thousands
/// grouped as on the axes.
pub fn short(value: f64) -> String {
    match value.abs() {
        v if (1000.0..1e15).contains(&v) => {
            let digits = format!("{:.0}", v);
            let mut grouped = String::from(if value < 0.0 { "-" } else { "" });
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            grouped
        }
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

impl Layout {
    /// A page `width` pixels wide.
    pub fn new(width: f64) -> Self {
        Self {
            width,
            left: 250.0,
            right: width - 130.0,
        }
    }

    fn x(&self, fraction: f64) -> f64 {
        self.left + fraction * (self.right - self.left)
    }

    fn titles(&self, svg: &mut Svg, y: f64, (title, subtitle): (&str, &str)) -> f64 {
        svg.text(20.0, y + 26.0, Anchor::Start, Font::bold(16, TEXT), title);
        svg.text(
            20.0,
            y + 45.0,
            Anchor::Start,
            Font::plain(13, QUIET),
            subtitle,
        );
        y + 58.0
    }

    fn row_label(&self, svg: &mut Svg, y: f64, label: &str) {
        svg.text(
            self.left - 12.0,
            y + 5.0,
            Anchor::End,
            Font::plain(14, TEXT),
            label,
        );
    }

    /// Grid lines and labels for ticks at `fractions` over rows `top..bottom`.
    fn axis(&self, svg: &mut Svg, (top, bottom): (f64, f64), ticks: &[(f64, &str)], minor: &[f64]) {
        for f in minor {
            svg.line(
                (self.x(*f), top),
                (self.x(*f), bottom),
                GRID_MINOR,
                1.0,
                false,
            );
        }
        for (f, label) in ticks {
            let x = self.x(*f);
            svg.line((x, top), (x, bottom + 4.0), GRID, 1.0, false);
            svg.text(
                x,
                bottom + 18.0,
                Anchor::Middle,
                Font::plain(12, QUIET),
                label,
            );
        }
    }

    fn notes(&self, svg: &mut Svg, mut y: f64, notes: &[(String, &'static str)]) -> f64 {
        for (note, colour) in notes {
            svg.text(20.0, y + 14.0, Anchor::Start, Font::plain(13, colour), note);
            y += 19.0;
        }
        y + 6.0
    }

    /// A panel of dots on a log axis; returns the y below it.
    pub fn dots(
        &self,
        svg: &mut Svg,
        y: f64,
        titles: (&str, &str),
        dots: &[Dot],
        notes: &[String],
    ) -> f64 {
        let values: Vec<f64> = dots.iter().map(|d| d.value).collect();
        let axis = LogAxis::covering(&values);
        let top = self.titles(svg, y, titles);
        let bottom = top + ROW * dots.len() as f64;
        let ticks: Vec<(f64, &str)> = axis
            .ticks
            .iter()
            .map(|t| (axis.fraction(t.value), t.label.as_str()))
            .collect();
        let minor: Vec<f64> = axis.minor().iter().map(|v| axis.fraction(*v)).collect();
        self.axis(svg, (top, bottom), &ticks, &minor);
        for (i, dot) in dots.iter().enumerate() {
            let cy = top + ROW * (i as f64 + 0.5);
            self.row_label(svg, cy, &dot.label);
            if !(dot.value.is_finite() && dot.value > 0.0) {
                continue;
            }
            let x = self.x(axis.fraction(dot.value));
            svg.line((self.left, cy), (x, cy), GRID_MINOR, 1.0, true);
            svg.dot(x, cy, 6.0, dot.colour, dot.hollow);
            svg.text(
                x + 11.0,
                cy + 5.0,
                Anchor::Start,
                Font::plain(13, TEXT),
                &dot.text,
            );
        }
        let notes: Vec<(String, &'static str)> = notes.iter().map(|n| (n.clone(), QUIET)).collect();
        self.notes(svg, bottom + 24.0, &notes)
    }

    /// A panel of bars from zero on a linear axis, and notes saying whether
    /// targets were met; returns the y below it.
    pub fn bars(
        &self,
        svg: &mut Svg,
        y: f64,
        titles: (&str, &str),
        bars: &[Bar],
        notes: &[(String, bool)],
    ) -> f64 {
        let largest = bars
            .iter()
            .map(|b| b.range.map_or(b.value, |(_, max)| max.max(b.value)))
            .fold(0.0, f64::max);
        let axis = LinearAxis::covering(largest);
        let top = self.titles(svg, y, titles);
        let bottom = top + ROW * bars.len() as f64;
        let ticks: Vec<(f64, &str)> = axis
            .ticks
            .iter()
            .map(|t| (axis.fraction(t.value), t.label.as_str()))
            .collect();
        self.axis(svg, (top, bottom), &ticks, &[]);
        for (i, bar) in bars.iter().enumerate() {
            let cy = top + ROW * (i as f64 + 0.5);
            self.row_label(svg, cy, &bar.label);
            let end = self.x(axis.fraction(bar.value.max(0.0)));
            svg.rect(self.left, cy - 8.0, end - self.left, 16.0, bar.colour);
            let mut label_x = end;
            if let Some((min, max)) = bar.range {
                let (a, b) = (self.x(axis.fraction(min)), self.x(axis.fraction(max)));
                svg.line((a, cy), (b, cy), TEXT, 1.5, false);
                svg.line((a, cy - 5.0), (a, cy + 5.0), TEXT, 1.5, false);
                svg.line((b, cy - 5.0), (b, cy + 5.0), TEXT, 1.5, false);
                label_x = label_x.max(b);
            }
            svg.text(
                label_x + 8.0,
                cy + 5.0,
                Anchor::Start,
                Font::plain(13, TEXT),
                &bar.text,
            );
        }
        let notes: Vec<(String, &'static str)> = notes
            .iter()
            .map(|(n, met)| (n.clone(), if *met { MET } else { MISSED }))
            .collect();
        self.notes(svg, bottom + 24.0, &notes)
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn value_labels_keep_three_digits_and_group_thousands() {
        assert_eq!(short(2.104), "2.10");
        assert_eq!(short(45.04), "45.0");
        assert_eq!(short(312.4), "312");
        assert_eq!(short(4200.0), "4,200");
        assert_eq!(short(1_234_567.0), "1,234,567");
    }
}
