//! A progress bar on stderr while layers are read (indicatif), counting compressed
//! bytes as they come from the store; nothing at all when stderr is not a terminal or
//! the caller asked for none (`--json` runs in CI stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};

/// A bar over `total` bytes, or no bar.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    pub fn new(wanted: bool, total: u64) -> Bar {
        if !wanted || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} reading layers {bytes}/{total_bytes} {wide_bar} {eta}")
        {
            bar.set_style(style);
        }
        Bar(Some(bar))
    }

    /// `reader`, counted on the bar.
    pub fn wrap<'a>(&self, reader: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
        match &self.0 {
            Some(bar) => Box::new(bar.wrap_read(reader)),
            None => reader,
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
