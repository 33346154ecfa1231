//! Build progress as BuildKit's plain output prints it: each step numbered (`#4`) with
//! its name (`[linux/arm64 build 2/5] RUN make`), its output lines prefixed with the
//! number and the seconds since it started, and `CACHED`, `DONE 1.2s` or `ERROR` to
//! close it. `--progress quiet` prints nothing but errors.

use std::io::Write;
use std::time::Instant;

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// BuildKit's plain lines on standard error.
    Plain,
    /// Nothing.
    Quiet,
}

/// The progress printer of one build.
pub struct Progress {
    mode: ProgressMode,
    next: usize,
}

/// One step being reported.
pub struct StepProgress {
    number: usize,
    started: Instant,
    mode: ProgressMode,
    /// Output not yet ended by a newline, per stream.
    partial: [Vec<u8>; 2],
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        Progress { mode, next: 1 }
    }

    /// Start a step called `name`.
    pub fn step(&mut self, name: &str) -> StepProgress {
        let number = self.next;
        self.next += 1;
        let step = StepProgress { number, started: Instant::now(), mode: self.mode, partial: [Vec::new(), Vec::new()] };
        step.line(name);
        step
    }

    /// A line that belongs to no step (`exporting to ...`).
    pub fn note(&mut self, text: &str) {
        if self.mode == ProgressMode::Plain {
            eprintln!("{text}");
        }
    }
}

impl StepProgress {
    fn line(&self, text: &str) {
        if self.mode == ProgressMode::Plain {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "#{} {text}", self.number);
        }
    }

    /// Output of the step's command (`stream` 0 stdout, 1 stderr), split into lines.
    pub fn output(&mut self, stream: usize, bytes: &[u8]) {
        let partial = &mut self.partial[stream.min(1)];
        partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        for text in lines {
            self.line(&format!("{elapsed:.3} {text}"));
        }
    }

    fn flush_partial(&mut self) {
        for stream in 0..2 {
            if !self.partial[stream].is_empty() {
                self.output(stream, b"\n");
            }
        }
    }

    /// The step was found in the cache.
    pub fn cached(mut self) {
        self.flush_partial();
        self.line("CACHED");
    }

    /// The step finished.
    pub fn done(mut self) {
        self.flush_partial();
        self.line(&format!("DONE {:.1}s", self.started.elapsed().as_secs_f64()));
    }

    /// The step failed with `message` (always printed, also when quiet).
    pub fn failed(mut self, message: &str) {
        self.flush_partial();
        if self.mode == ProgressMode::Plain {
            self.line(&format!("ERROR: {message}"));
        }
    }
}
