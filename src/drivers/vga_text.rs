//! The VGA text buffer at physical address 0xB8000 (80x25 cells) and the
//! CRT controller's cursor registers (ports 0x3D4/0x3D5).
//!
//! Every cell write is volatile: the buffer is device memory that the
//! compiler must not elide or reorder away.

use core::fmt;
use core::ptr::NonNull;

use volatile::VolatilePtr;
use x86_64::instructions::port::Port;

/// Screen width in characters.
pub const WIDTH: usize = 80;
/// Screen height in characters.
pub const HEIGHT: usize = 25;
/// Physical address of the text buffer (the kernel maps it in the boot
/// data region early, then in the MMIO region).
pub const BUFFER_ADDR: usize = 0xB8000;
/// Size of the text buffer in bytes.
pub const BUFFER_SIZE: usize = WIDTH * HEIGHT * 2;

const CRTC_INDEX: u16 = 0x3D4;
const CRTC_DATA: u16 = 0x3D5;
const CRTC_CURSOR_START: u8 = 0x0A;
const CRTC_CURSOR_END: u8 = 0x0B;
const CRTC_CURSOR_HIGH: u8 = 0x0E;
const CRTC_CURSOR_LOW: u8 = 0x0F;

/// The 16 colours of the VGA text palette.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Colour {
    Black = 0,
    Blue = 1,
    Green = 2,
    Cyan = 3,
    Red = 4,
    Magenta = 5,
    Brown = 6,
    LightGrey = 7,
    DarkGrey = 8,
    LightBlue = 9,
    LightGreen = 10,
    LightCyan = 11,
    LightRed = 12,
    Pink = 13,
    Yellow = 14,
    White = 15,
}

impl Colour {
    /// The colour with palette index `index` (0-15; higher bits ignored).
    pub const fn from_index(index: u8) -> Self {
        const ALL: [Colour; 16] = [
            Colour::Black,
            Colour::Blue,
            Colour::Green,
            Colour::Cyan,
            Colour::Red,
            Colour::Magenta,
            Colour::Brown,
            Colour::LightGrey,
            Colour::DarkGrey,
            Colour::LightBlue,
            Colour::LightGreen,
            Colour::LightCyan,
            Colour::LightRed,
            Colour::Pink,
            Colour::Yellow,
            Colour::White,
        ];
        ALL[(index & 0xF) as usize]
    }
}

/// A foreground and background colour packed as the hardware wants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct ColourCode(u8);

impl ColourCode {
    /// Packs `fg` on `bg`.
    pub const fn new(fg: Colour, bg: Colour) -> Self {
        Self(((bg as u8) << 4) | fg as u8)
    }

    /// The foreground colour.
    pub const fn foreground(self) -> Colour {
        Colour::from_index(self.0 & 0xF)
    }

    /// The background colour.
    pub const fn background(self) -> Colour {
        Colour::from_index(self.0 >> 4)
    }
}

/// Backspace on a text screen `columns` wide: the cursor moves back one
/// place, to the end of the previous line at the start of one; the caller
/// then overwrites the character.
pub fn step_back(col: &mut usize, row: &mut usize, columns: usize) {
    if *col > 0 {
        *col -= 1;
    } else if *row > 0 {
        *row -= 1;
        *col = columns - 1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
struct Cell {
    ascii: u8,
    colour: ColourCode,
}

/// A writer into the text buffer: wraps long lines, scrolls at the bottom,
/// and keeps the hardware cursor after the last character.
///
/// A copy of the screen in RAM makes scrolling write-only: reading the VGA
/// buffer is slow (device memory, and under emulation each access is a
/// trip into the emulator).
pub struct VgaText {
    buffer: NonNull<Cell>,
    shadow: [Cell; WIDTH * HEIGHT],
    row: usize,
    col: usize,
    colour: ColourCode,
}

// SAFETY: the buffer pointer refers to device memory that exists for the whole
// run of the kernel; access is serialised by the Mutex that owns the writer.
unsafe impl Send for VgaText {}

impl VgaText {
    /// The default colour: light grey on black.
    pub const DEFAULT_COLOUR: ColourCode = ColourCode::new(Colour::LightGrey, Colour::Black);

    /// A writer over the text buffer mapped at `base`.
    ///
    /// # Safety
    /// The buffer (physical [`BUFFER_ADDR`], [`BUFFER_SIZE`] bytes) must be
    /// mapped writable at `base` whenever the writer is used (see
    /// [`VgaText::move_to`]), and only one writer may exist.
    pub const unsafe fn new(base: NonNull<u8>) -> Self {
        Self {
            buffer: base.cast::<Cell>(),
            shadow: [Cell {
                ascii: b' ',
                colour: Self::DEFAULT_COLOUR,
            }; WIDTH * HEIGHT],
            row: 0,
            col: 0,
            colour: Self::DEFAULT_COLOUR,
        }
    }

    /// Uses the buffer at its new mapping, `base`.
    ///
    /// # Safety
    /// The buffer must be mapped writable at `base` from now on, as
    /// [`VgaText::new`] asks.
    pub unsafe fn move_to(&mut self, base: NonNull<u8>) {
        self.buffer = base.cast::<Cell>();
    }

    /// Puts `cell` at (`row`, `col`) on the screen and in the copy.
    fn put(&mut self, row: usize, col: usize, cell: Cell) {
        let index = row * WIDTH + col;
        // Also checks that the index lies in the 80x25 buffer.
        self.shadow[index] = cell;
        // SAFETY: the index is inside the 80x25 buffer (the shadow write checked it), which
        // `new`'s caller promised is mapped; `&mut self` makes this the only
        // access right now.
        unsafe { VolatilePtr::new(self.buffer.add(index)).write(cell) };
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

    /// Blanks the screen and moves the cursor home.
    pub fn clear(&mut self) {
        for row in 0..HEIGHT {
            self.clear_row(row);
        }
        self.row = 0;
        self.col = 0;
        self.update_cursor();
    }

    /// Writes one byte; `\n` starts a new line. Bytes outside printable ASCII
    /// show as a filled block.
    pub fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.col = 0,
            0x08 => step_back(&mut self.col, &mut self.row, WIDTH),
            byte => {
                if self.col >= WIDTH {
                    self.new_line();
                }
                let ascii = if (0x20..0x7F).contains(&byte) {
                    byte
                } else {
                    0xFE
                };
                let cell = Cell {
                    ascii,
                    colour: self.colour,
                };
                self.put(self.row, self.col, cell);
                self.col += 1;
            }
        }
    }

    /// Writes a string. The hardware cursor moves at [`VgaText::update_cursor`]
    /// (port I/O is slow, so the console moves it once per print).
    pub fn write_text(&mut self, s: &str) {
        for byte in s.bytes() {
            self.write_byte(byte);
        }
    }

    fn new_line(&mut self) {
        self.col = 0;
        if self.row + 1 < HEIGHT {
            self.row += 1;
            return;
        }
        self.shadow.copy_within(WIDTH.., 0);
        for index in 0..WIDTH * (HEIGHT - 1) {
            let cell = self.shadow[index];
            self.put(index / WIDTH, index % WIDTH, cell);
        }
        self.clear_row(HEIGHT - 1);
    }

    fn clear_row(&mut self, row: usize) {
        let blank = Cell {
            ascii: b' ',
            colour: self.colour,
        };
        for col in 0..WIDTH {
            self.put(row, col, blank);
        }
    }

    /// Turns the hardware cursor on as an underline and puts it where the
    /// next character goes.
    pub fn update_cursor(&mut self) {
        let position = (self.row * WIDTH + self.col.min(WIDTH - 1)) as u16;
        let mut index: Port<u8> = Port::new(CRTC_INDEX);
        let mut data: Port<u8> = Port::new(CRTC_DATA);
        // SAFETY: the CRT controller's index/data pair; this module is its
        // only user, and the writes only change the cursor's shape and place.
        unsafe {
            index.write(CRTC_CURSOR_START);
            data.write(14);
            index.write(CRTC_CURSOR_END);
            data.write(15);
            index.write(CRTC_CURSOR_HIGH);
            data.write((position >> 8) as u8);
            index.write(CRTC_CURSOR_LOW);
            data.write(position as u8);
        }
    }
}

impl fmt::Write for VgaText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_text(s);
        Ok(())
    }
}
