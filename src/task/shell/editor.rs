//! The shell's line editor: printable characters, backspace, enter, Ctrl-C
//! and a history browsed with up and down. Pure logic: it returns the text
//! to print, so it is tested on the host.

use alloc::collections::VecDeque;
use alloc::string::String;

use super::keys::Key;

/// The longest line accepted.
pub const MAX_LINE: usize = 256;
/// History entries kept.
pub const HISTORY: usize = 32;

/// What a key did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Edit {
    /// Text to print for the user to see the change.
    pub echo: String,
    /// A submitted line (after Enter).
    pub line: Option<String>,
}

/// A line being typed, and the lines typed before.
#[derive(Debug, Default)]
pub struct LineEditor {
    line: String,
    history: VecDeque<String>,
    /// The history entry shown, counted from the newest (0).
    browsing: Option<usize>,
}

impl LineEditor {
    /// An empty editor with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The line as typed so far.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// Text that erases `n` characters before the cursor on a terminal.
    fn erase(echo: &mut String, n: usize) {
        for _ in 0..n {
            echo.push_str("\u{8} \u{8}");
        }
    }

    /// Replaces the line with `text`, printing the change.
    fn replace(&mut self, text: String, echo: &mut String) {
        Self::erase(echo, self.line.chars().count());
        echo.push_str(&text);
        self.line = text;
    }

    /// Applies one key.
    pub fn key(&mut self, key: Key) -> Edit {
        let mut edit = Edit::default();
        match key {
            Key::Char(c) => {
                if self.line.chars().count() < MAX_LINE {
                    self.line.push(c);
                    edit.echo.push(c);
                }
            }
            Key::Backspace => {
                if self.line.pop().is_some() {
                    Self::erase(&mut edit.echo, 1);
                }
            }
            Key::Enter => {
                edit.echo.push('\n');
                let line = core::mem::take(&mut self.line);
                self.browsing = None;
                if !line.trim().is_empty() && self.history.front() != Some(&line) {
                    if self.history.len() == HISTORY {
                        self.history.pop_back();
                    }
                    self.history.push_front(line.clone());
                }
                edit.line = Some(line);
            }
            Key::Cancel => {
                self.line.clear();
                self.browsing = None;
                edit.echo.push_str("^C\n");
                edit.line = Some(String::new());
            }
            Key::Up => {
                let next = self.browsing.map_or(0, |i| i + 1);
                if let Some(entry) = self.history.get(next).cloned() {
                    self.browsing = Some(next);
                    self.replace(entry, &mut edit.echo);
                }
            }
            Key::Down => match self.browsing {
                Some(0) => {
                    self.browsing = None;
                    self.replace(String::new(), &mut edit.echo);
                }
                Some(i) => {
                    self.browsing = Some(i - 1);
                    let entry = self.history[i - 1].clone();
                    self.replace(entry, &mut edit.echo);
                }
                None => {}
            },
        }
        edit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_str(editor: &mut LineEditor, text: &str) -> String {
        let mut echo = String::new();
        for c in text.chars() {
            echo += &editor.key(Key::Char(c)).echo;
        }
        echo
    }

    #[test]
    fn typing_backspace_and_enter() {
        let mut editor = LineEditor::new();
        assert_eq!(type_str(&mut editor, "helo"), "helo");
        assert_eq!(editor.key(Key::Backspace).echo, "\u{8} \u{8}");
        type_str(&mut editor, "lo");
        let edit = editor.key(Key::Enter);
        assert_eq!(edit.echo, "\n");
        assert_eq!(edit.line.as_deref(), Some("hello"));
        assert_eq!(editor.line(), "");
        // Backspace on an empty line prints nothing.
        assert_eq!(editor.key(Key::Backspace), Edit::default());
    }

    #[test]
    fn history_up_and_down() {
        let mut editor = LineEditor::new();
        for line in ["help", "mem", "mem", "ticks"] {
            type_str(&mut editor, line);
            editor.key(Key::Enter);
        }
        type_str(&mut editor, "x");
        assert_eq!(editor.key(Key::Up).echo, "\u{8} \u{8}ticks");
        editor.key(Key::Up);
        assert_eq!(editor.line(), "mem", "repeated lines are kept once");
        editor.key(Key::Up);
        assert_eq!(editor.line(), "help");
        assert_eq!(editor.key(Key::Up), Edit::default(), "no older entry");
        editor.key(Key::Down);
        assert_eq!(editor.line(), "mem");
        editor.key(Key::Down);
        editor.key(Key::Down);
        assert_eq!(editor.line(), "");
        assert_eq!(editor.key(Key::Down), Edit::default());
    }

    #[test]
    fn long_lines_stop_at_the_limit_and_cancel_clears() {
        let mut editor = LineEditor::new();
        let echo = type_str(&mut editor, &"a".repeat(MAX_LINE + 10));
        assert_eq!(echo.len(), MAX_LINE);
        assert_eq!(editor.line().len(), MAX_LINE);
        let edit = editor.key(Key::Cancel);
        assert_eq!(edit.line.as_deref(), Some(""));
        assert_eq!(editor.line(), "");
    }
}
