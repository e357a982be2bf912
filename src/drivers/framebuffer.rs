//! A text console drawn on a linear RGB framebuffer (what UEFI machines
//! have instead of VGA text mode), with the Noto Sans Mono bitmap font:
//! colours, scrolling by moving pixel rows, and an underline cursor.

use core::fmt;
use core::ptr::NonNull;

use noto_sans_mono_bitmap::{FontWeight, RasterHeight, get_raster, get_raster_width};

use super::vga_text::{Colour, ColourCode, step_back};
use crate::boot::{ColourField, FramebufferInfo, FramebufferKind};

const WEIGHT: FontWeight = FontWeight::Regular;
const HEIGHT: RasterHeight = RasterHeight::Size16;
/// A glyph cell's size in pixels.
pub const CELL_WIDTH: usize = get_raster_width(WEIGHT, HEIGHT);
/// A glyph cell's height in pixels.
pub const CELL_HEIGHT: usize = HEIGHT.val();
/// Rows of the underline cursor.
const CURSOR_ROWS: usize = 2;

/// The VGA palette as RGB, so both consoles show the same colours.
const fn rgb(colour: Colour) -> [u8; 3] {
    match colour {
        Colour::Black => [0, 0, 0],
        Colour::Blue => [0, 0, 170],
        Colour::Green => [0, 170, 0],
        Colour::Cyan => [0, 170, 170],
        Colour::Red => [170, 0, 0],
        Colour::Magenta => [170, 0, 170],
        Colour::Brown => [170, 85, 0],
        Colour::LightGrey => [170, 170, 170],
        Colour::DarkGrey => [85, 85, 85],
        Colour::LightBlue => [85, 85, 255],
        Colour::LightGreen => [85, 255, 85],
        Colour::LightCyan => [85, 255, 255],
        Colour::LightRed => [255, 85, 85],
        Colour::Pink => [255, 85, 255],
        Colour::Yellow => [255, 255, 85],
        Colour::White => [255, 255, 255],
    }
}

/// How to turn red, green and blue into a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    red: ColourField,
    green: ColourField,
    blue: ColourField,
    bytes_per_pixel: usize,
}

impl PixelFormat {
    /// The pixel value of an 8-bit-per-channel colour.
    pub fn encode(&self, [r, g, b]: [u8; 3]) -> u32 {
        let channel = |value: u8, field: ColourField| {
            let value = u32::from(value) >> 8u32.saturating_sub(u32::from(field.size));
            value << field.position
        };
        channel(r, self.red) | channel(g, self.green) | channel(b, self.blue)
    }
}

/// Why a framebuffer cannot hold a console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Not an RGB framebuffer (text mode or a palette).
    NotRgb,
    /// Pixels of this many bits are not drawn.
    Depth(u8),
    /// Too small for one line of text.
    TooSmall,
    /// The pitch, pixel size or colour fields do not fit together.
    Inconsistent,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRgb => f.write_str("not an RGB framebuffer"),
            Self::Depth(bpp) => {
                write!(f, "{bpp} bits per pixel are not supported (16, 24, 32 are)")
            }
            Self::TooSmall => f.write_str("too small for a line of text"),
            Self::Inconsistent => {
                f.write_str("pitch, pixel size and colour fields do not fit together")
            }
        }
    }
}

/// A text console on a framebuffer.
pub struct FramebufferText {
    base: NonNull<u8>,
    pitch: usize,
    format: PixelFormat,
    columns: usize,
    rows: usize,
    col: usize,
    row: usize,
    colour: ColourCode,
    cursor_drawn: bool,
    cursor_background: Colour,
}

// SAFETY: the framebuffer exists for the whole run; the Mutex that owns the
// console serialises access.
unsafe impl Send for FramebufferText {}

impl FramebufferText {
    /// A console over the framebuffer `info` describes, mapped at `base`.
    ///
    /// # Safety
    /// `pitch * height` bytes from `base` must be mapped writable for as
    /// long as the console is used (see [`FramebufferText::move_to`]), and
    /// nothing else may draw there.
    pub unsafe fn new(info: &FramebufferInfo, base: NonNull<u8>) -> Result<Self, Unsupported> {
        let FramebufferKind::Rgb { red, green, blue } = info.kind else {
            return Err(Unsupported::NotRgb);
        };
        let bytes_per_pixel = match info.bpp {
            16 | 24 | 32 => usize::from(info.bpp / 8),
            other => return Err(Unsupported::Depth(other)),
        };
        let pitch = info.pitch as usize;
        let fields_fit = [red, green, blue]
            .iter()
            .all(|f| usize::from(f.position) + usize::from(f.size) <= 8 * bytes_per_pixel);
        if pitch < info.width as usize * bytes_per_pixel
            || !pitch.is_multiple_of(bytes_per_pixel)
            || !fields_fit
        {
            return Err(Unsupported::Inconsistent);
        }
        let columns = info.width as usize / CELL_WIDTH;
        let rows = info.height as usize / CELL_HEIGHT;
        if columns == 0 || rows == 0 {
            return Err(Unsupported::TooSmall);
        }
        Ok(Self {
            base,
            pitch: info.pitch as usize,
            format: PixelFormat {
                red,
                green,
                blue,
                bytes_per_pixel,
            },
            columns,
            rows,
            col: 0,
            row: 0,
            colour: ColourCode::new(Colour::LightGrey, Colour::Black),
            cursor_drawn: false,
            cursor_background: Colour::Black,
        })
    }

    /// Continues drawing at `base`, where the same framebuffer is now mapped.
    ///
    /// # Safety
    /// As for [`FramebufferText::new`], at the new address.
    pub unsafe fn move_to(&mut self, base: NonNull<u8>) {
        self.base = base;
    }

    /// Columns and rows of text.
    pub fn size(&self) -> (usize, usize) {
        (self.columns, self.rows)
    }

    /// Writes one pixel row of a cell: `pixels` (one value per column of
    /// the cell) from column `col`, pixel line `y`.
    fn put_cell_row(&mut self, col: usize, y: usize, pixels: &[u32; CELL_WIDTH]) {
        let bpp = self.format.bytes_per_pixel;
        let offset = y * self.pitch + col * CELL_WIDTH * bpp;
        // SAFETY: the cell row lies inside the text area, which lies inside
        // the mapped framebuffer (`new`'s contract); every pixel of a 16-
        // or 32-bit framebuffer is aligned to its size.
        unsafe {
            let row = self.base.as_ptr().add(offset);
            match bpp {
                4 => {
                    let row = row.cast::<u32>();
                    for (x, &value) in pixels.iter().enumerate() {
                        row.add(x).write_volatile(value);
                    }
                }
                2 => {
                    let row = row.cast::<u16>();
                    for (x, &value) in pixels.iter().enumerate() {
                        row.add(x).write_volatile(value as u16);
                    }
                }
                _ => {
                    for (x, &value) in pixels.iter().enumerate() {
                        let [b0, b1, b2, _] = value.to_le_bytes();
                        row.add(3 * x).write_volatile(b0);
                        row.add(3 * x + 1).write_volatile(b1);
                        row.add(3 * x + 2).write_volatile(b2);
                    }
                }
            }
        }
    }

    fn fill_cell(&mut self, col: usize, row: usize, first_line: usize, colour: [u8; 3]) {
        let pixels = [self.format.encode(colour); CELL_WIDTH];
        for y in first_line..CELL_HEIGHT {
            self.put_cell_row(col, row * CELL_HEIGHT + y, &pixels);
        }
    }

    fn draw_glyph(&mut self, c: char, col: usize, row: usize) {
        let (fg, bg) = (rgb(self.colour.foreground()), rgb(self.colour.background()));
        let Some(glyph) = get_raster(c, WEIGHT, HEIGHT).or_else(|| get_raster('?', WEIGHT, HEIGHT))
        else {
            return;
        };
        for (y, line) in glyph.rows().enumerate().take(CELL_HEIGHT) {
            let mut pixels = [0u32; CELL_WIDTH];
            for (pixel, &intensity) in pixels.iter_mut().zip(line) {
                // Blend foreground over background by the glyph's coverage.
                let mix = |f: u8, b: u8| {
                    ((u16::from(f) * u16::from(intensity)
                        + u16::from(b) * (255 - u16::from(intensity)))
                        / 255) as u8
                };
                *pixel =
                    self.format
                        .encode([mix(fg[0], bg[0]), mix(fg[1], bg[1]), mix(fg[2], bg[2])]);
            }
            self.put_cell_row(col, row * CELL_HEIGHT + y, &pixels);
        }
    }

    fn draw_cursor(&mut self, visible: bool) {
        // Erase with the background the cursor was drawn on, even if the
        // colour changed since.
        let colour = if visible {
            self.cursor_background = self.colour.background();
            rgb(self.colour.foreground())
        } else {
            rgb(self.cursor_background)
        };
        // Past the last column the cursor waits for the wrap: draw nothing
        // rather than clip the last character.
        if self.col >= self.columns {
            return;
        }
        self.fill_cell(self.col, self.row, CELL_HEIGHT - CURSOR_ROWS, colour);
    }

    /// Sets the colour of the text written from now on.
    pub fn set_colour(&mut self, colour: ColourCode) {
        self.colour = colour;
    }

    /// The colour of the text written from now on.
    pub fn colour(&self) -> ColourCode {
        self.colour
    }

    /// The column the next character goes to (the screen's width once a
    /// line is full: the writer wraps on the next character).
    pub fn column(&self) -> usize {
        self.col
    }

    /// Fills the screen with the background colour and moves home.
    pub fn clear(&mut self) {
        let bg = rgb(self.colour.background());
        for row in 0..self.rows {
            for col in 0..self.columns {
                self.fill_cell(col, row, 0, bg);
            }
        }
        self.col = 0;
        self.row = 0;
        self.cursor_drawn = false;
        self.show_cursor();
    }

    fn new_line(&mut self) {
        self.col = 0;
        if self.row + 1 < self.rows {
            self.row += 1;
            return;
        }
        // Move every text line up by one, then blank the last.
        let line_bytes = self.pitch * CELL_HEIGHT;
        // SAFETY: both ranges lie in the mapped text area (rows * line_bytes
        // bytes from base); `copy` handles the overlap.
        unsafe {
            core::ptr::copy(
                self.base.as_ptr().add(line_bytes),
                self.base.as_ptr(),
                line_bytes * (self.rows - 1),
            );
        }
        let bg = rgb(self.colour.background());
        for col in 0..self.columns {
            self.fill_cell(col, self.rows - 1, 0, bg);
        }
    }

    fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.col = 0,
            0x08 => step_back(&mut self.col, &mut self.row, self.columns),
            byte => {
                if self.col >= self.columns {
                    self.new_line();
                }
                let c = if (0x20..0x7F).contains(&byte) {
                    byte as char
                } else {
                    '?'
                };
                self.draw_glyph(c, self.col, self.row);
                self.col += 1;
            }
        }
    }

    /// Writes a string. The cursor is redrawn by [`FramebufferText::show_cursor`],
    /// once per print.
    pub fn write_text(&mut self, s: &str) {
        if self.cursor_drawn {
            self.draw_cursor(false);
            self.cursor_drawn = false;
        }
        for byte in s.bytes() {
            self.write_byte(byte);
        }
    }

    /// Draws the cursor after the last character written.
    pub fn show_cursor(&mut self) {
        if !self.cursor_drawn {
            self.draw_cursor(true);
            self.cursor_drawn = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_formats_encode_channels_in_place() {
        let field = |position, size| ColourField { position, size };
        let bgrx = PixelFormat {
            red: field(16, 8),
            green: field(8, 8),
            blue: field(0, 8),
            bytes_per_pixel: 4,
        };
        assert_eq!(bgrx.encode([0x12, 0x34, 0x56]), 0x0012_3456);
        let rgb565 = PixelFormat {
            red: field(11, 5),
            green: field(5, 6),
            blue: field(0, 5),
            bytes_per_pixel: 2,
        };
        assert_eq!(rgb565.encode([255, 255, 255]), 0xFFFF);
        assert_eq!(rgb565.encode([255, 0, 0]), 0xF800);
    }

    #[test]
    fn the_font_has_the_printable_ascii_range() {
        for c in (0x20u8..0x7F).map(char::from) {
            let glyph = get_raster(c, WEIGHT, HEIGHT).expect("glyph");
            assert_eq!(glyph.width(), CELL_WIDTH);
            assert_eq!(glyph.height(), CELL_HEIGHT);
        }
    }
}
