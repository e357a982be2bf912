//! The shell's line editor: printable characters, backspace, enter, Ctrl-C
//! and a history browsed with up and down. Pure logic: it returns the text
//! to print, so it is tested on the host.
//!
//! A line holds at most [`MAX_LINE`] characters. The first key that does
//! not fit says so on a line of its own and shows the line again under a
//! new prompt; further keys are dropped quietly until the line is shorter
//! again.

use alloc::collections::VecDeque;
use alloc::string::String;

use super::PROMPT;
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
    /// The user was told that the line is full.
    told_full: bool,
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
                } else if !self.told_full {
                    self.told_full = true;
                    edit.echo = alloc::format!(
                        "\n(the line is full: at most {MAX_LINE} characters; \
                         Enter runs it, Backspace erases)\n{PROMPT}{}",
                        self.line
                    );
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
        if self.line.chars().count() < MAX_LINE {
            self.told_full = false;
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
    fn a_full_line_says_so_once_and_cancel_clears() {
        let mut editor = LineEditor::new();
        let full = "a".repeat(MAX_LINE);
        assert_eq!(type_str(&mut editor, &full), full);
        // The first key too many: a notice, then the line again.
        let echo = editor.key(Key::Char('b')).echo;
        let notice = std::format!("\n(the line is full: at most {MAX_LINE} characters;");
        assert!(echo.starts_with(&notice), "{echo:?}");
        assert!(
            echo.ends_with(&std::format!(")\n{PROMPT}{full}")),
            "{echo:?}"
        );
        assert_eq!(echo.matches('\n').count(), 2, "one line of notice");
        // Further keys are dropped without another notice.
        assert_eq!(type_str(&mut editor, "cde"), "");
        assert_eq!(editor.line(), full);
        // Shorter again, then full again: told again.
        editor.key(Key::Backspace);
        assert_eq!(type_str(&mut editor, "x"), "x");
        assert!(editor.key(Key::Char('y')).echo.contains("the line is full"));
        let edit = editor.key(Key::Cancel);
        assert_eq!(edit.line.as_deref(), Some(""));
        assert_eq!(editor.line(), "");
        // A new line starts quiet and is told again when it fills.
        let echo = type_str(&mut editor, &"z".repeat(MAX_LINE + 1));
        assert_eq!(echo.matches("the line is full").count(), 1);
    }
}
