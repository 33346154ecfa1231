//! Build progress on standard error, the three ways `buildx --progress` shows it:
//!
//! - **plain** (not on a terminal): BuildKit's lines. Each step numbered (`#4`) with its
//!   name (`#4 [linux/arm64 build 2/5] RUN make`), its output lines prefixed with the
//!   number and the seconds since it started (`#4 1.204 cc -o app app.c`), and
//!   `#4 CACHED`, `#4 DONE 1.2s` or `#4 ERROR: message` to close it.
//! - **tty** (on a terminal): a live view (indicatif) with one line per running step, its
//!   name and a clock, the last few lines of its output dimmed under it; a finished step
//!   collapses to one line above the view (`#4 [linux/arm64 build 2/5] RUN make  DONE
//!   1.2s`). The view is drawn only on a terminal: no control sequences elsewhere.
//! - **quiet**: nothing but failures.
//!
//! In every mode a failed step is followed, as in BuildKit, by its last lines of output
//! between `------` rules under ` > NAME:` (the name holds the platform); the error itself
//! (with the exit status) is the build's error, printed by the caller.
//!
//! [`Progress`] is shared by the threads of a build (`&self` methods, atomic step
//! numbers); a [`StepProgress`] belongs to the thread running its step. Everything a
//! step prints at once (a line, or an error line with its last output) is written in one
//! piece, so the lines of concurrent steps never mix.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lines of a failed step's output printed again under its error (BuildKit's plain
/// printer keeps 10, its tty view all).
const FAILURE_LINES: usize = 20;
/// Lines of a running step's output shown under it in the live view.
const LIVE_LINES: usize = 6;
/// How often the live view's spinners and clocks move.
const TICK: Duration = Duration::from_millis(100);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// BuildKit's plain lines.
    Plain,
    /// The live view on a terminal.
    Tty,
    /// Failures only.
    Quiet,
}

impl ProgressMode {
    /// The mode for `--progress REQUESTED` as buildx picks it: `auto` takes
    /// `BUILDKIT_PROGRESS` (`environment`) when that is set and not empty, and is then
    /// `tty` when standard error is a terminal, `plain` when not. `tty` without a terminal
    /// is an error, as in buildx ("failed to get console"), not a silent fallback.
    pub fn choose(
        requested: &str,
        environment: Option<&str>,
        stderr_is_terminal: bool,
    ) -> Result<ProgressMode, String> {
        let (source, name) = match environment.filter(|value| !value.is_empty()) {
            Some(value) if requested == "auto" => ("BUILDKIT_PROGRESS", value),
            _ => ("--progress", requested),
        };
        match name {
            "auto" if stderr_is_terminal => Ok(ProgressMode::Tty),
            "auto" | "plain" => Ok(ProgressMode::Plain),
            "tty" if stderr_is_terminal => Ok(ProgressMode::Tty),
            "tty" => Err(format!("{source}=tty: standard error is not a terminal (use plain, quiet or auto)")),
            "quiet" => Ok(ProgressMode::Quiet),
            other => Err(format!("{source}={other}: not a progress mode (auto, plain, tty or quiet)")),
        }
    }
}

/// Where progress goes: a writer (standard error), with the live view drawn over it in
/// the tty mode.
struct Sink {
    mode: ProgressMode,
    writer: Mutex<Box<dyn Write + Send>>,
    live: Option<MultiProgress>,
}

impl Sink {
    /// Write `text` (whole lines) in one piece; in the tty mode above the live view.
    fn write(&self, text: &str) {
        let write = || {
            let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = writer.write_all(text.as_bytes());
            let _ = writer.flush();
        };
        match &self.live {
            Some(live) => live.suspend(write),
            None => write(),
        }
    }
}

/// The progress printer of one build, shared by its threads.
pub struct Progress {
    sink: Arc<Sink>,
    next: AtomicUsize,
}

impl Progress {
    /// Progress on standard error.
    pub fn new(mode: ProgressMode) -> Progress {
        Progress::with_writer(mode, Box::new(std::io::stderr()), ProgressDrawTarget::stderr())
    }

    /// Progress written to `writer`, the live view (tty mode) drawn on `view`.
    fn with_writer(mode: ProgressMode, writer: Box<dyn Write + Send>, view: ProgressDrawTarget) -> Progress {
        let live = (mode == ProgressMode::Tty).then(|| MultiProgress::with_draw_target(view));
        Progress { sink: Arc::new(Sink { mode, writer: Mutex::new(writer), live }), next: AtomicUsize::new(1) }
    }

    /// Start a step called `name` (`[linux/arm64 build 2/5] RUN make`).
    pub fn step(&self, name: &str) -> StepProgress {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        if self.sink.mode == ProgressMode::Plain {
            self.sink.write(&format!("#{number} {name}\n"));
        }
        StepProgress {
            number,
            name: name.to_owned(),
            started: Instant::now(),
            live: self.sink.live.as_ref().map(|view| LiveStep::start(view, name)),
            sink: self.sink.clone(),
            partial: [Vec::new(), Vec::new()],
            last_lines: VecDeque::new(),
        }
    }

    /// A line that belongs to no step (`#exporting to the outputs`).
    pub fn note(&self, text: &str) {
        if self.sink.mode != ProgressMode::Quiet {
            self.sink.write(&format!("{text}\n"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(live) = &self.sink.live {
            let _ = live.clear();
        }
    }
}

/// One step being reported, by the thread that runs it.
pub struct StepProgress {
    number: usize,
    name: String,
    started: Instant,
    sink: Arc<Sink>,
    /// Output not yet ended by a newline, per stream.
    partial: [Vec<u8>; 2],
    /// The last [`FAILURE_LINES`] lines of output and when they came.
    last_lines: VecDeque<(Duration, String)>,
    /// The step's lines in the live view (tty mode).
    live: Option<LiveStep>,
}

impl StepProgress {
    /// Output of the step's command (`stream` 0 stdout, 1 stderr), split into lines.
    pub fn output(&mut self, stream: usize, bytes: &[u8]) {
        let partial = &mut self.partial[stream.min(1)];
        partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        if lines.is_empty() {
            return;
        }
        let elapsed = self.started.elapsed();
        if self.sink.mode == ProgressMode::Plain {
            let seconds = seconds(elapsed);
            let text: String = lines.iter().map(|line| format!("#{} {seconds} {line}\n", self.number)).collect();
            self.sink.write(&text);
        }
        for line in lines {
            if self.last_lines.len() == FAILURE_LINES {
                self.last_lines.pop_front();
            }
            self.last_lines.push_back((elapsed, line));
        }
        if let Some(live) = &mut self.live {
            let shown = self.last_lines.len().saturating_sub(LIVE_LINES);
            live.show(self.last_lines.range(shown..).map(|(_, line)| line.as_str()));
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
        self.finish("CACHED", None);
    }

    /// The step finished.
    pub fn done(mut self) {
        let took = format!("DONE {:.1}s", self.started.elapsed().as_secs_f64());
        self.finish(&took, None);
    }

    /// The step failed with `message`: in every mode its last lines of output follow.
    pub fn failed(mut self, message: &str) {
        let took = format!("ERROR {:.1}s", self.started.elapsed().as_secs_f64());
        self.finish(&took, Some(message));
    }

    /// Close the step: `state` is `CACHED`, `DONE 1.2s` or `ERROR 1.2s`.
    fn finish(&mut self, state: &str, error: Option<&str>) {
        self.flush_partial();
        if let Some(live) = self.live.take() {
            live.clear();
        }
        let mut text = match (self.sink.mode, error) {
            (ProgressMode::Plain, Some(message)) => format!("#{} ERROR: {message}\n", self.number),
            (ProgressMode::Plain, None) => format!("#{} {state}\n", self.number),
            (ProgressMode::Tty, _) => format!("#{} {}  {state}\n", self.number, printable(&self.name)),
            (ProgressMode::Quiet, _) => String::new(),
        };
        if error.is_some() {
            text.push_str(&format!("------\n > {}:\n", self.name));
            for (elapsed, line) in &self.last_lines {
                text.push_str(&format!("{} {line}\n", seconds(*elapsed)));
            }
            text.push_str("------\n");
        }
        if !text.is_empty() {
            self.sink.write(&text);
        }
    }
}

impl Drop for StepProgress {
    /// A step dropped unfinished leaves nothing in the live view.
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.clear();
        }
    }
}

/// A running step in the live view: its line (spinner, name, clock) and the lines of
/// output under it.
struct LiveStep {
    view: MultiProgress,
    step: ProgressBar,
    output: Vec<ProgressBar>,
}

impl LiveStep {
    fn start(view: &MultiProgress, name: &str) -> LiveStep {
        let style = ProgressStyle::with_template("{spinner:.blue} {wide_msg} {seconds}")
            .map(|style| {
                style.with_key("seconds", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{:.1}s", state.elapsed().as_secs_f64());
                })
            })
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let step = view.add(ProgressBar::new_spinner().with_style(style).with_message(printable(name)));
        step.tick();
        step.enable_steady_tick(TICK);
        LiveStep { view: view.clone(), step, output: Vec::new() }
    }

    /// Show `lines` (oldest first, at most [`LIVE_LINES`]) under the step.
    fn show<'a>(&mut self, lines: impl ExactSizeIterator<Item = &'a str>) {
        while self.output.len() < lines.len() {
            let style =
                ProgressStyle::with_template("   {wide_msg:.dim}").unwrap_or_else(|_| ProgressStyle::default_spinner());
            let after = self.output.last().unwrap_or(&self.step).clone();
            self.output.push(self.view.insert_after(&after, ProgressBar::new_spinner().with_style(style)));
        }
        for (bar, line) in self.output.iter().zip(lines) {
            bar.set_message(printable(line));
        }
    }

    /// Take the step's lines out of the view; the screen follows at the view's next
    /// drawing (a line written above it, or another step's clock).
    fn clear(self) {
        self.step.disable_steady_tick();
        for bar in self.output.iter().chain([&self.step]) {
            self.view.remove(bar);
        }
    }
}

/// Seconds as BuildKit prints them before a line of output: three decimals under 10s,
/// two under 100s, one above.
fn seconds(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let precision = if seconds < 10.0 {
        3
    } else if seconds < 100.0 {
        2
    } else {
        1
    };
    format!("{seconds:.precision$}")
}

/// `text` for one line of the live view: what a carriage return would leave on the
/// screen, without escape sequences, other control characters as spaces.
fn printable(text: &str) -> String {
    let shown = text.trim_end_matches('\r').rsplit('\r').next().unwrap_or_default();
    let mut out = String::with_capacity(shown.len());
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // A CSI sequence runs to its final byte (@ to ~); other escapes are two characters.
            if chars.next_if_eq(&'[').is_some() {
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        /// The text written, times replaced by `T` (they depend on the machine).
        fn text(&self) -> String {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            regex::Regex::new(r"\b\d+\.\d+").unwrap().replace_all(&text, "T").into_owned()
        }
    }

    fn progress(mode: ProgressMode) -> (Progress, Buffer) {
        let buffer = Buffer::default();
        (Progress::with_writer(mode, Box::new(buffer.clone()), ProgressDrawTarget::hidden()), buffer)
    }

    /// A cached step, a step with output (a line split over two writes, a last line
    /// without a newline) and a failing step.
    fn three_steps(progress: &Progress) {
        progress.step("[linux/arm64 stage 1/3] COPY a /a").cached();
        let mut run = progress.step("[linux/arm64 stage 2/3] RUN make");
        run.output(0, b"cc -o app");
        run.output(0, b" app.c\nok\n");
        run.output(1, b"warning: none");
        run.done();
        let mut failing = progress.step("[linux/arm64 stage 3/3] RUN false");
        for line in 1..=25 {
            failing.output(1, format!("line {line}\n").as_bytes());
        }
        failing.failed("process \"/bin/sh -c false\" did not complete successfully: exit code: 1");
        progress.note("#exporting to the outputs");
    }

    /// The failure block of the failing step: its name and its last 20 lines.
    fn failure_block() -> String {
        let lines: String = (6..=25).map(|line| format!("T line {line}\n")).collect();
        format!("------\n > [linux/arm64 stage 3/3] RUN false:\n{lines}------\n")
    }

    #[test]
    fn plain_lines_are_buildkits() {
        let (progress, buffer) = progress(ProgressMode::Plain);
        three_steps(&progress);
        let failing: String = (1..=25).map(|line| format!("#3 T line {line}\n")).collect();
        let expected = format!(
            "#1 [linux/arm64 stage 1/3] COPY a /a\n#1 CACHED\n\
             #2 [linux/arm64 stage 2/3] RUN make\n#2 T cc -o app app.c\n#2 T ok\n#2 T warning: none\n#2 DONE Ts\n\
             #3 [linux/arm64 stage 3/3] RUN false\n{failing}\
             #3 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1\n{}\
             #exporting to the outputs\n",
            failure_block()
        );
        assert_eq!(buffer.text(), expected);
    }

    #[test]
    fn quiet_prints_only_the_failure_and_its_last_lines() {
        let (progress, buffer) = progress(ProgressMode::Quiet);
        three_steps(&progress);
        assert_eq!(buffer.text(), failure_block());
    }

    #[test]
    fn tty_collapses_finished_steps_to_one_line() {
        let (progress, buffer) = progress(ProgressMode::Tty);
        three_steps(&progress);
        let expected = format!(
            "#1 [linux/arm64 stage 1/3] COPY a /a  CACHED\n\
             #2 [linux/arm64 stage 2/3] RUN make  DONE Ts\n\
             #3 [linux/arm64 stage 3/3] RUN false  ERROR Ts\n{}\
             #exporting to the outputs\n",
            failure_block()
        );
        assert_eq!(buffer.text(), expected);
    }

    #[test]
    fn the_live_view_shows_the_last_lines_of_a_running_step() {
        let (progress, _) = progress(ProgressMode::Tty);
        let mut step = progress.step("[linux/arm64 stage 1/1] RUN make");
        for line in 1..=9 {
            step.output(0, format!("line {line}\n").as_bytes());
        }
        let live = step.live.as_ref().unwrap();
        let shown: Vec<String> = live.output.iter().map(ProgressBar::message).collect();
        assert_eq!(shown, (4..=9).map(|line| format!("line {line}")).collect::<Vec<_>>());
        assert_eq!(live.step.message(), "[linux/arm64 stage 1/1] RUN make");
        step.done();
    }

    #[test]
    fn concurrent_steps_never_mix_their_lines() {
        fn shared_by_threads<T: Send + Sync>() {}
        shared_by_threads::<Progress>();
        shared_by_threads::<StepProgress>();
        let (progress, buffer) = progress(ProgressMode::Plain);
        std::thread::scope(|threads| {
            for platform in ["linux/amd64", "linux/arm64", "linux/arm/v7"] {
                let progress = &progress;
                threads.spawn(move || {
                    for step in 1..=20 {
                        let mut running = progress.step(&format!("[{platform} stage {step}/20] RUN make"));
                        for line in 0..50 {
                            running.output(0, format!("{platform} output {line}\n").as_bytes());
                        }
                        running.done();
                    }
                });
            }
        });
        let text = buffer.text();
        let line = regex::Regex::new(
            r"^#\d+ (\[linux/[a-z0-9/]+ stage \d+/20\] RUN make|T linux/[a-z0-9/]+ output \d+|DONE Ts)$",
        )
        .unwrap();
        assert!(text.lines().all(|l| line.is_match(l)), "{text}");
        assert_eq!(text.lines().count(), 3 * 20 * 52);
        let mut numbers: Vec<&str> =
            text.lines().filter(|l| l.ends_with("RUN make")).map(|l| l.split(' ').next().unwrap()).collect();
        numbers.sort_by_key(|n| n[1..].parse::<usize>().unwrap());
        numbers.dedup();
        assert_eq!(numbers.len(), 60, "every step has its own number");
    }

    #[test]
    fn the_mode_is_chosen_as_buildx_does() {
        use ProgressMode::*;
        assert_eq!(ProgressMode::choose("auto", None, true), Ok(Tty));
        assert_eq!(ProgressMode::choose("auto", None, false), Ok(Plain));
        assert_eq!(ProgressMode::choose("auto", Some(""), false), Ok(Plain));
        assert_eq!(ProgressMode::choose("auto", Some("quiet"), true), Ok(Quiet));
        assert_eq!(ProgressMode::choose("plain", Some("quiet"), true), Ok(Plain), "--progress wins over the variable");
        assert_eq!(ProgressMode::choose("tty", None, true), Ok(Tty));
        assert_eq!(
            ProgressMode::choose("tty", None, false),
            Err("--progress=tty: standard error is not a terminal (use plain, quiet or auto)".to_owned())
        );
        assert_eq!(
            ProgressMode::choose("auto", Some("rawjson"), false),
            Err("BUILDKIT_PROGRESS=rawjson: not a progress mode (auto, plain, tty or quiet)".to_owned())
        );
    }

    #[test]
    fn live_lines_are_what_a_terminal_would_show() {
        assert_eq!(printable("downloading 10%\rdownloading 60%\r"), "downloading 60%");
        assert_eq!(printable("\x1b[31mred\x1b[0m and\x07 bell"), "red and  bell");
        assert_eq!(seconds(Duration::from_millis(1234)), "1.234");
        assert_eq!(seconds(Duration::from_millis(12346)), "12.35");
        assert_eq!(seconds(Duration::from_millis(123456)), "123.5");
    }
}
