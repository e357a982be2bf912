//! A few SVG shapes written as text: all the chart needs, with no drawing
//! library between the numbers and the picture.

use std::fmt::Write;

/// Where a text's x coordinate sits on it.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    /// At its left edge.
    Start,
    /// At its middle.
    Middle,
    /// At its right edge.
    End,
}

/// How a text looks.
#[derive(Debug, Clone, Copy)]
pub struct Font {
    /// Size in pixels.
    pub size: u32,
    /// Colour (CSS).
    pub colour: &'static str,
    /// Bold or not.
    pub bold: bool,
}

impl Font {
    /// Plain text of `size` in `colour`.
    pub const fn plain(size: u32, colour: &'static str) -> Self {
        Self {
            size,
            colour,
            bold: false,
        }
    }

    /// Bold text of `size` in `colour`.
    pub const fn bold(size: u32, colour: &'static str) -> Self {
        Self {
            size,
            colour,
            bold: true,
        }
    }
}

/// An SVG document being written.
pub struct Svg {
    body: String,
    width: u32,
}

impl Svg {
    /// A document `width` pixels wide (its height is known at the end).
    pub fn new(width: u32) -> Self {
        Self {
            body: String::new(),
            width,
        }
    }

    /// A filled rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{fill}"/>"#,
            w.max(0.0)
        );
    }

    /// A line of `width` pixels, dashed if `dash` is set.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64, dash: bool) {
        let dash = if dash {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{stroke}" stroke-width="{width}"{dash}/>"#,
            from.0, from.1, to.0, to.1
        );
    }

    /// A dot, filled or hollow.
    pub fn dot(&mut self, x: f64, y: f64, r: f64, colour: &str, hollow: bool) {
        let fill = if hollow { "white" } else { colour };
        let _ = writeln!(
            self.body,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{fill}" stroke="{colour}" stroke-width="2"/>"#
        );
    }

    /// A text; `x` is where `anchor` says, `y` its baseline.
    pub fn text(&mut self, x: f64, y: f64, anchor: Anchor, font: Font, content: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let weight = if font.bold {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="{}" fill="{}"{weight}>{}</text>"#,
            font.size,
            font.colour,
            escape(content)
        );
    }

    /// The whole document, `height` pixels high, on white.
    pub fn finish(self, height: u32) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" "#,
                r#"font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#,
                "\n",
                r#"<rect width="{w}" height="{h}" fill="white"/>"#,
                "\n{body}</svg>\n"
            ),
            w = self.width,
            h = height,
            body = self.body
        )
    }
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut svg = Svg::new(10);
        svg.text(
            0.0,
            0.0,
            Anchor::Start,
            Font::plain(10, "black"),
            "a < b & c",
        );
        let out = svg.finish(10);
        assert!(out.contains(">a &lt; b &amp; c</text>"), "{out}");
        assert!(out.starts_with("<svg ") && out.ends_with("</svg>\n"));
    }
}
