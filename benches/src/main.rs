//! # archway-bench: the same workloads natively, under qemu-user and under archway
//!
//! Every workload exists twice, built from one source: an x86_64 program (the native
//! baseline) and an aarch64 program (the guest). The harness runs the native program
//! directly, the guest under `qemu-aarch64-static` and under `archway run`, N times each
//! (interleaved, so a noisy neighbour hurts all three alike), takes the median wall time
//! (or CPU time, `--metric cpu`)
//! and prints
//!
//! ```text
//! workload | native s | qemu s | archway s | archway/native | archway/qemu
//! ```
//!
//! followed by the geometric mean of archway/qemu over the integer workloads and over
//! all workloads. A run counts only if it exits 0 and prints exactly what the native
//! program printed; a workload whose archway run fails is shown as FAILED (with the
//! reason below the table), never dropped. Programs that were not built are MISSING.
//!
//! ## Running it
//!
//! ```text
//! bash benches/build.sh                              # workloads + busybox into the caches
//! cargo build --release -p archway                   # target/release/archway
//! cargo run --release -p archway-benches -- [OPTIONS]
//! ```
//!
//! Options:
//!
//! * `--runs N`         runs per engine and workload (default 3; the median is reported)
//! * `--filter NAME`    only workloads whose name contains NAME (repeatable, or comma-separated)
//! * `--archway PATH`   the archway binary (default `target/release/archway`)
//! * `--engine E`       passed on as `archway run --engine E` (`jit` or `interp`)
//! * `--qemu PATH`      the qemu binary (default `qemu-aarch64-static`)
//! * `--timeout SECS`   give up on a single run after this long (default 600)
//! * `--metric M`       `wall` (default) or `cpu` (user + system time of the processes,
//!   steadier when other jobs share the machine); JSON always has both
//! * `--json`           print the results as JSON instead of the table
//! * `--strict`         exit 1 if any archway run failed or a workload is missing
//! * `--list`           list the workloads and exit
//! * `--root DIR`       the workspace (default: the one this crate was built in)
//!
//! Progress goes to stderr; the table (or JSON) to stdout.
//!
//! ## Workloads
//!
//! Our own programs (`benches/workloads/*.c`, built by `benches/build.sh` into
//! `target/bench-cache/{aarch64,x86_64}/`): SHA-256 and MD5 of 64 MiB, qsort of 3M ints,
//! recursive fib(35), an integer loop, a 300x300 double matrix multiply built scalar
//! (`-O2 -fno-tree-vectorize`) and vectorised (`-O3`), and 200 starts of a program that
//! does nothing. Debian's busybox-static (arm64 against amd64, same version, from
//! `scripts/fetch-busybox.sh`): `sha256sum`, `md5sum` and `gzip -6` of a 32 MiB text file
//! and `bzip2` of an 8 MiB one. The text files are generated here, deterministically, in
//! `target/bench-cache/inputs/`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// What kind of work a workload mostly does; the geometric means are taken per kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WorkloadClass {
    Integer,
    Float,
    Startup,
}

impl WorkloadClass {
    fn name(self) -> &'static str {
        match self {
            WorkloadClass::Integer => "integer",
            WorkloadClass::Float => "float",
            WorkloadClass::Startup => "startup",
        }
    }
}

/// Which program a workload runs.
#[derive(Clone, Copy, Debug)]
enum Program {
    /// One of ours: `target/bench-cache/{aarch64,x86_64}/NAME`.
    Built(&'static str),
    /// Debian's busybox-static; the applet is the first argument.
    Busybox,
}

/// A generated input file in `target/bench-cache/inputs/`.
#[derive(Clone, Copy, Debug)]
struct InputFile {
    name: &'static str,
    size: usize,
}

const TEXT_32_MIB: InputFile = InputFile { name: "text-v1-32m.txt", size: 32 << 20 };
const TEXT_8_MIB: InputFile = InputFile { name: "text-v1-8m.txt", size: 8 << 20 };

/// One benchmark: a program, its arguments, and how often one measured run starts it.
#[derive(Clone, Copy, Debug)]
struct Workload {
    name: &'static str,
    class: WorkloadClass,
    program: Program,
    args: &'static [&'static str],
    /// Input file the arguments refer to (by its bare name; runs happen in the inputs dir).
    input: Option<InputFile>,
    /// Processes started one after another in a single measured run.
    starts_per_run: u32,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "sha256-64m",
        class: WorkloadClass::Integer,
        program: Program::Built("sha256"),
        args: &["64"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "md5-64m",
        class: WorkloadClass::Integer,
        program: Program::Built("md5"),
        args: &["64"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "qsort-3m",
        class: WorkloadClass::Integer,
        program: Program::Built("qsort"),
        args: &["3000000"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "fib-35",
        class: WorkloadClass::Integer,
        program: Program::Built("fib"),
        args: &["35"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "intloop",
        class: WorkloadClass::Integer,
        program: Program::Built("intloop"),
        args: &["200"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "matmul-scalar",
        class: WorkloadClass::Float,
        program: Program::Built("matmul_scalar"),
        args: &["300", "4"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "matmul-vector",
        class: WorkloadClass::Float,
        program: Program::Built("matmul_vector"),
        args: &["300", "4"],
        input: None,
        starts_per_run: 1,
    },
    Workload {
        name: "starts-200",
        class: WorkloadClass::Startup,
        program: Program::Built("trivial"),
        args: &[],
        input: None,
        starts_per_run: 200,
    },
    Workload {
        name: "busybox-sha256sum",
        class: WorkloadClass::Integer,
        program: Program::Busybox,
        args: &["sha256sum", TEXT_32_MIB.name],
        input: Some(TEXT_32_MIB),
        starts_per_run: 1,
    },
    Workload {
        name: "busybox-md5sum",
        class: WorkloadClass::Integer,
        program: Program::Busybox,
        args: &["md5sum", TEXT_32_MIB.name],
        input: Some(TEXT_32_MIB),
        starts_per_run: 1,
    },
    Workload {
        name: "busybox-gzip",
        class: WorkloadClass::Integer,
        program: Program::Busybox,
        args: &["gzip", "-6", "-c", TEXT_32_MIB.name],
        input: Some(TEXT_32_MIB),
        starts_per_run: 1,
    },
    Workload {
        name: "busybox-bzip2",
        class: WorkloadClass::Integer,
        program: Program::Busybox,
        args: &["bzip2", "-c", TEXT_8_MIB.name],
        input: Some(TEXT_8_MIB),
        starts_per_run: 1,
    },
];

/// The three ways of running a workload, in the order of the table's columns.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Engine {
    Native,
    Qemu,
    Archway,
}

const ENGINES: [Engine; 3] = [Engine::Native, Engine::Qemu, Engine::Archway];

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Qemu => "qemu",
            Engine::Archway => "archway",
        }
    }
}

/// Command-line options.
#[derive(Debug)]
struct Options {
    runs: usize,
    filters: Vec<String>,
    archway: PathBuf,
    archway_engine: Option<String>,
    qemu: PathBuf,
    timeout: Duration,
    metric: Metric,
    json: bool,
    strict: bool,
    list: bool,
    root: PathBuf,
}

const USAGE: &str = "\
usage: archway-bench [--runs N] [--filter NAME]... [--archway PATH] [--engine jit|interp]
                     [--qemu PATH] [--timeout SECS] [--metric wall|cpu] [--json] [--strict]
                     [--list] [--root DIR]
Runs each workload natively, under qemu-aarch64-static and under `archway run`
and prints median wall times and ratios. Build the workloads first with
`bash benches/build.sh`. See the top of benches/src/main.rs for details.";

impl Options {
    fn parse(arguments: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let mut options = Options {
            runs: 3,
            filters: Vec::new(),
            archway: PathBuf::new(),
            archway_engine: None,
            qemu: PathBuf::from("qemu-aarch64-static"),
            timeout: Duration::from_secs(600),
            metric: Metric::Wall,
            json: false,
            strict: false,
            list: false,
            root,
        };
        let mut archway = None;
        let mut arguments = arguments.into_iter();
        while let Some(argument) = arguments.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline_value) = match argument.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
                _ => (argument.clone(), None),
            };
            let mut value = |name: &str| {
                inline_value.clone().or_else(|| arguments.next()).ok_or_else(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--runs" => {
                    options.runs = value("--runs")?
                        .parse()
                        .ok()
                        .filter(|&runs: &usize| runs > 0)
                        .ok_or("--runs needs a positive number")?
                }
                "--filter" => options
                    .filters
                    .extend(value("--filter")?.split(',').filter(|name| !name.is_empty()).map(str::to_string)),
                "--archway" => archway = Some(PathBuf::from(value("--archway")?)),
                "--engine" => options.archway_engine = Some(value("--engine")?),
                "--qemu" => options.qemu = PathBuf::from(value("--qemu")?),
                "--timeout" => {
                    let seconds: f64 = value("--timeout")?
                        .parse()
                        .ok()
                        .filter(|&seconds: &f64| seconds > 0.0)
                        .ok_or("--timeout needs a positive number of seconds")?;
                    options.timeout = Duration::from_secs_f64(seconds);
                }
                "--root" => options.root = PathBuf::from(value("--root")?),
                "--metric" => {
                    options.metric = match value("--metric")?.as_str() {
                        "wall" => Metric::Wall,
                        "cpu" => Metric::Cpu,
                        other => return Err(format!("--metric is wall or cpu, not {other}")),
                    }
                }
                "--json" => options.json = true,
                "--strict" => options.strict = true,
                "--list" => options.list = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        options.archway = archway.unwrap_or_else(|| options.root.join("target/release/archway"));
        Ok(options)
    }

    fn selects(&self, workload: &Workload) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|filter| workload.name.contains(filter.as_str()))
    }
}

/// Where the programs and inputs live.
struct Paths {
    bench_cache: PathBuf,
    inputs: PathBuf,
    busybox_arm64: PathBuf,
    busybox_amd64: PathBuf,
}

impl Paths {
    fn new(root: &Path) -> Paths {
        let bench_cache = root.join("target/bench-cache");
        Paths {
            inputs: bench_cache.join("inputs"),
            bench_cache,
            busybox_arm64: root.join(".cache/busybox/arm64/bin/busybox"),
            busybox_amd64: root.join(".cache/busybox/amd64/bin/busybox"),
        }
    }

    /// The (aarch64, x86_64) programs of a workload.
    fn programs(&self, workload: &Workload) -> (PathBuf, PathBuf) {
        match workload.program {
            Program::Built(name) => {
                (self.bench_cache.join("aarch64").join(name), self.bench_cache.join("x86_64").join(name))
            }
            Program::Busybox => (self.busybox_arm64.clone(), self.busybox_amd64.clone()),
        }
    }
}

/// A small deterministic PRNG (xorshift64) for the generated inputs.
struct XorShift64(u64);

impl XorShift64 {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Writes `size` bytes of English-looking text (a fixed vocabulary, numbers and line
/// breaks chosen by a seeded PRNG): compressible the way real text is, identical on
/// every machine.
fn generate_text(size: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "translator",
        "register",
        "instruction",
        "memory",
        "block",
        "guest",
        "host",
        "signal",
        "kernel",
        "page",
        "branch",
        "cache",
        "thread",
        "syscall",
        "compiler",
        "archway",
        "emulation",
        "benchmark",
    ];
    let mut random = XorShift64(0x5DEECE66D_u64 ^ size as u64);
    let mut text = Vec::with_capacity(size + 64);
    let mut line_length = 0;
    while text.len() < size {
        let draw = random.next();
        if draw % 11 == 0 {
            write!(&mut text, "{}", (draw >> 20) % 100_000).expect("writing to a Vec");
        } else {
            text.extend_from_slice(WORDS[((draw >> 8) % WORDS.len() as u64) as usize].as_bytes());
        }
        line_length += 1;
        if line_length >= 8 + (draw >> 40) % 8 {
            text.extend_from_slice(if draw % 5 == 0 { b".\n" } else { b"\n" });
            line_length = 0;
        } else {
            text.push(b' ');
        }
    }
    text.truncate(size);
    text
}

/// Creates the input file unless it is already there with the right size.
fn ensure_input(paths: &Paths, input: InputFile) -> Result<(), String> {
    let path = paths.inputs.join(input.name);
    if fs::metadata(&path).map(|metadata| metadata.len() == input.size as u64).unwrap_or(false) {
        return Ok(());
    }
    fs::create_dir_all(&paths.inputs).map_err(|error| format!("creating {}: {error}", paths.inputs.display()))?;
    let temporary = path.with_extension("tmp");
    fs::write(&temporary, generate_text(input.size))
        .and_then(|()| fs::rename(&temporary, &path))
        .map_err(|error| format!("writing {}: {error}", path.display()))
}

/// What one process run produced.
struct RunOutput {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: ExitStatus,
}

/// Runs a command to completion (stdin from /dev/null, stdout and stderr captured),
/// killing it after `timeout`.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Result<RunOutput, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {:?}: {error}", command.get_program()))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let stderr_reader = thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        let mut stdout_bytes = Vec::new();
        let _ = stdout.read_to_end(&mut stdout_bytes);
        let stderr_bytes = stderr_reader.join().unwrap_or_default();
        let status = child.wait();
        let _ = sender.send(status.map(|status| RunOutput { stdout: stdout_bytes, stderr: stderr_bytes, status }));
    });
    match receiver.recv_timeout(timeout) {
        Ok(result) => result.map_err(|error| format!("waiting for the process: {error}")),
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped
            // (the waiting thread is still blocked), so the pid cannot have been reused.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            let _ = receiver.recv_timeout(Duration::from_secs(10));
            Err(format!("timed out after {:.0} s", timeout.as_secs_f64()))
        }
    }
}

/// The first line of a process's stderr, for error messages.
fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim();
    let mut shortened: String = line.chars().take(160).collect();
    if shortened.len() < line.len() {
        shortened.push('…');
    }
    shortened
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// User + system CPU seconds of all waited-for children so far. Runs are sequential,
/// so the difference around one run is that run's CPU time.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Which time the table and the ratios use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Metric {
    /// Elapsed real time (the default, what a user waits for).
    Wall,
    /// User + system CPU time of the processes (steadier on a busy machine).
    Cpu,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::Cpu => "cpu",
        }
    }
}

/// One measured run.
#[derive(Clone, Copy, Debug)]
struct Timing {
    wall_seconds: f64,
    cpu_seconds: f64,
}

impl Timing {
    fn get(self, metric: Metric) -> f64 {
        match metric {
            Metric::Wall => self.wall_seconds,
            Metric::Cpu => self.cpu_seconds,
        }
    }
}

/// Times of the successful runs, or why a run failed.
#[derive(Default)]
struct EngineResult {
    timings: Vec<Timing>,
    error: Option<String>,
}

impl EngineResult {
    fn median(&self, metric: Metric) -> Option<f64> {
        if self.error.is_some() || self.timings.is_empty() {
            return None;
        }
        let mut sorted: Vec<f64> = self.timings.iter().map(|timing| timing.get(metric)).collect();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        Some(if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 })
    }
}

/// Everything measured for one workload.
struct WorkloadResult {
    workload: Workload,
    /// The time the table and ratios use.
    metric: Metric,
    /// Set when the workload could not run at all (programs not built, input not written).
    missing: Option<String>,
    engines: HashMap<Engine, EngineResult>,
}

impl WorkloadResult {
    fn median(&self, engine: Engine) -> Option<f64> {
        self.median_of(engine, self.metric)
    }

    fn median_of(&self, engine: Engine, metric: Metric) -> Option<f64> {
        self.engines.get(&engine).and_then(|result| result.median(metric))
    }

    fn ratio(&self, numerator: Engine, denominator: Engine) -> Option<f64> {
        Some(self.median(numerator)? / self.median(denominator)?)
    }

    fn archway_ok(&self) -> bool {
        self.missing.is_none() && self.median(Engine::Archway).is_some()
    }
}

/// Runs the workloads and collects the results.
struct Harness<'a> {
    options: &'a Options,
    paths: Paths,
    archway_problem: Option<String>,
}

impl Harness<'_> {
    fn command(&self, engine: Engine, workload: &Workload) -> Command {
        let (guest_program, native_program) = self.paths.programs(workload);
        let mut command = match engine {
            Engine::Native => Command::new(native_program),
            Engine::Qemu => {
                let mut command = Command::new(&self.options.qemu);
                command.arg(guest_program);
                command
            }
            Engine::Archway => {
                let mut command = Command::new(&self.options.archway);
                command.arg("run");
                if let Some(archway_engine) = &self.options.archway_engine {
                    command.args(["--engine", archway_engine]);
                }
                command.arg(guest_program);
                command
            }
        };
        command.args(workload.args).current_dir(&self.paths.inputs);
        command
    }

    /// One measured run: `starts_per_run` processes in a row. Returns the times and the
    /// stdout of the last process.
    fn measure_once(&self, engine: Engine, workload: &Workload) -> Result<(Timing, Vec<u8>), String> {
        let cpu_before = children_cpu_seconds();
        let started = Instant::now();
        let mut last_stdout = Vec::new();
        for _ in 0..workload.starts_per_run {
            let output = run_with_timeout(self.command(engine, workload), self.options.timeout)?;
            if !output.status.success() {
                let stderr = first_line(&output.stderr);
                let detail = if stderr.is_empty() { String::new() } else { format!(": {stderr}") };
                return Err(format!("{}{detail}", describe_status(output.status)));
            }
            last_stdout = output.stdout;
        }
        let timing =
            Timing { wall_seconds: started.elapsed().as_secs_f64(), cpu_seconds: children_cpu_seconds() - cpu_before };
        Ok((timing, last_stdout))
    }

    fn prepare(&self, workload: &Workload) -> Result<(), String> {
        let (guest_program, native_program) = self.paths.programs(workload);
        for program in [&guest_program, &native_program] {
            if !program.is_file() {
                let hint = match workload.program {
                    Program::Built(_) => "run bash benches/build.sh",
                    Program::Busybox => "run bash scripts/fetch-busybox.sh",
                };
                return Err(format!("{} not found ({hint})", program.display()));
            }
        }
        fs::create_dir_all(&self.paths.inputs)
            .map_err(|error| format!("creating {}: {error}", self.paths.inputs.display()))?;
        match workload.input {
            Some(input) => ensure_input(&self.paths, input),
            None => Ok(()),
        }
    }

    fn run_workload(&self, workload: &Workload) -> WorkloadResult {
        let mut result =
            WorkloadResult { workload: *workload, metric: self.options.metric, missing: None, engines: HashMap::new() };
        if let Err(problem) = self.prepare(workload) {
            eprintln!("{:<18} MISSING: {problem}", workload.name);
            result.missing = Some(problem);
            return result;
        }
        for engine in ENGINES {
            let mut engine_result = EngineResult::default();
            if engine == Engine::Archway {
                engine_result.error = self.archway_problem.clone();
            }
            result.engines.insert(engine, engine_result);
        }
        let mut reference_output: Option<Vec<u8>> = None;
        for _ in 0..self.options.runs {
            for engine in ENGINES {
                if result.engines[&engine].error.is_some() {
                    continue;
                }
                let outcome = self.measure_once(engine, workload).and_then(|(timing, stdout)| {
                    match (&reference_output, engine) {
                        (None, Engine::Native) => reference_output = Some(stdout),
                        (None, _) => return Err("no native output to compare with".to_string()),
                        (Some(reference), _) if *reference != stdout => {
                            return Err(format!(
                                "output differs from native ({} bytes vs {} bytes; starts {:?})",
                                stdout.len(),
                                reference.len(),
                                first_line(&stdout)
                            ))
                        }
                        _ => {}
                    }
                    Ok(timing)
                });
                let engine_result = result.engines.get_mut(&engine).expect("every engine has an entry");
                match outcome {
                    Ok(timing) => engine_result.timings.push(timing),
                    Err(error) => engine_result.error = Some(error),
                }
            }
            if result.engines[&Engine::Native].error.is_some() {
                break; // nothing to compare with
            }
        }
        let cell = |engine: Engine| match result.median(engine) {
            Some(seconds) => format!("{seconds:.3}"),
            None => "FAILED".to_string(),
        };
        eprintln!(
            "{:<18} native {:>8}  qemu {:>8}  archway {:>8}",
            workload.name,
            cell(Engine::Native),
            cell(Engine::Qemu),
            cell(Engine::Archway)
        );
        result
    }
}

/// The geometric mean of archway/qemu over the workloads `include` selects, and how
/// many of them it covers (failed ones cannot be included).
fn geometric_mean(results: &[WorkloadResult], include: impl Fn(&Workload) -> bool) -> (Option<f64>, usize, usize) {
    let selected: Vec<&WorkloadResult> = results.iter().filter(|result| include(&result.workload)).collect();
    let ratios: Vec<f64> = selected.iter().filter_map(|result| result.ratio(Engine::Archway, Engine::Qemu)).collect();
    let mean = if ratios.is_empty() {
        None
    } else {
        Some((ratios.iter().map(|ratio| ratio.ln()).sum::<f64>() / ratios.len() as f64).exp())
    };
    (mean, ratios.len(), selected.len())
}

/// A table cell: seconds or a ratio, or why there is none.
fn cell(result: &WorkloadResult, value: Option<f64>, failed_engine: Option<Engine>) -> String {
    if result.missing.is_some() {
        return "MISSING".to_string();
    }
    match value {
        Some(value) => format!("{value:.3}"),
        None => match failed_engine {
            Some(engine) if result.engines.get(&engine).is_some_and(|engine| engine.error.is_some()) => {
                "FAILED".to_string()
            }
            _ => "-".to_string(),
        },
    }
}

/// Prints the table, the geometric means and what went wrong. `archway_problem`, when
/// archway could not run at all, is printed once instead of once per workload.
fn print_table(results: &[WorkloadResult], options: &Options, archway_problem: Option<&String>) {
    let header = ["workload", "native s", "qemu s", "archway s", "archway/native", "archway/qemu"];
    let mut rows: Vec<[String; 6]> = Vec::new();
    for result in results {
        rows.push([
            result.workload.name.to_string(),
            cell(result, result.median(Engine::Native), Some(Engine::Native)),
            cell(result, result.median(Engine::Qemu), Some(Engine::Qemu)),
            cell(result, result.median(Engine::Archway), Some(Engine::Archway)),
            cell(result, result.ratio(Engine::Archway, Engine::Native), Some(Engine::Archway)),
            cell(result, result.ratio(Engine::Archway, Engine::Qemu), Some(Engine::Archway)),
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let format_row = |cells: &[String]| {
        let mut line = String::new();
        for (index, (text, width)) in cells.iter().zip(widths).enumerate() {
            if index == 0 {
                let _ = write!(line, "{text:<width$}");
            } else {
                let _ = write!(line, " | {text:>width$}");
            }
        }
        line
    };
    println!("{}", format_row(&header.map(str::to_string)));
    println!("{}", widths.iter().map(|&width| "-".repeat(width)).collect::<Vec<_>>().join("-|-"));
    for row in &rows {
        println!("{}", format_row(row));
    }
    println!();
    let engine_note = options.archway_engine.as_deref().map(|engine| format!(" --engine {engine}")).unwrap_or_default();
    println!(
        "median {} time of {} run(s); archway = {} run{engine_note}; qemu = {}",
        options.metric.name(),
        options.runs,
        options.archway.display(),
        options.qemu.display()
    );
    let integer = geometric_mean(results, |workload| workload.class == WorkloadClass::Integer);
    let all = geometric_mean(results, |_| true);
    for (label, (mean, included, total)) in [("integer workloads", integer), ("all workloads", all)] {
        let mean = mean.map(|mean| format!("{mean:.3}")).unwrap_or_else(|| "n/a".to_string());
        println!("geometric mean archway/qemu, {label}: {mean} ({included} of {total} workloads)");
    }
    let problems: Vec<String> = results
        .iter()
        .flat_map(|result| {
            let mut lines = Vec::new();
            if let Some(problem) = &result.missing {
                lines.push(format!("  {}: MISSING: {problem}", result.workload.name));
            }
            for engine in ENGINES {
                if let Some(error) = result
                    .engines
                    .get(&engine)
                    .and_then(|engine| engine.error.as_ref())
                    .filter(|&error| Some(error) != archway_problem)
                {
                    lines.push(format!("  {}: {} FAILED: {error}", result.workload.name, engine.name()));
                }
            }
            lines
        })
        .collect();
    if !problems.is_empty() || archway_problem.is_some() {
        println!("\nproblems:");
        if let Some(problem) = archway_problem {
            println!("  archway FAILED everywhere: {problem}");
        }
        for line in problems {
            println!("{line}");
        }
    }
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            character if (character as u32) < 0x20 => {
                let _ = write!(quoted, "\\u{:04x}", character as u32);
            }
            character => quoted.push(character),
        }
    }
    quoted.push('"');
    quoted
}

fn json_number(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => format!("{value:.6}"),
        _ => "null".to_string(),
    }
}

fn print_json(results: &[WorkloadResult], options: &Options) {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"runs\": {},", options.runs);
    let _ = writeln!(out, "  \"ratios_use\": {},", json_string(options.metric.name()));
    let _ = writeln!(out, "  \"archway\": {},", json_string(&options.archway.display().to_string()));
    let engine = options.archway_engine.as_deref().map(json_string).unwrap_or_else(|| "null".to_string());
    let _ = writeln!(out, "  \"archway_engine\": {engine},");
    let _ = writeln!(out, "  \"qemu\": {},", json_string(&options.qemu.display().to_string()));
    out.push_str("  \"workloads\": [\n");
    for (index, result) in results.iter().enumerate() {
        let status = if result.missing.is_some() {
            "missing"
        } else if result.archway_ok() {
            "ok"
        } else {
            "failed"
        };
        let _ = write!(
            out,
            "    {{\"name\": {}, \"class\": {}, \"status\": {}",
            json_string(result.workload.name),
            json_string(result.workload.class.name()),
            json_string(status)
        );
        if let Some(problem) = &result.missing {
            let _ = write!(out, ", \"missing\": {}", json_string(problem));
        }
        for engine in ENGINES {
            let engine_result = result.engines.get(&engine);
            let runs = |metric: Metric| {
                engine_result
                    .map(|engine| {
                        engine
                            .timings
                            .iter()
                            .map(|timing| format!("{:.6}", timing.get(metric)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            let error = engine_result
                .and_then(|engine| engine.error.as_deref())
                .map(json_string)
                .unwrap_or_else(|| "null".to_string());
            let _ = write!(
                out,
                ",\n     \"{name}\": {{\"median_wall_s\": {}, \"median_cpu_s\": {}, \"wall_s\": [{}], \"cpu_s\": [{}], \"error\": {error}}}",
                json_number(result.median_of(engine, Metric::Wall)),
                json_number(result.median_of(engine, Metric::Cpu)),
                runs(Metric::Wall),
                runs(Metric::Cpu),
                name = engine.name()
            );
        }
        let _ = write!(
            out,
            ",\n     \"archway_over_native\": {}, \"archway_over_qemu\": {}, \"qemu_over_native\": {}}}",
            json_number(result.ratio(Engine::Archway, Engine::Native)),
            json_number(result.ratio(Engine::Archway, Engine::Qemu)),
            json_number(result.ratio(Engine::Qemu, Engine::Native))
        );
        out.push_str(if index + 1 < results.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ],\n");
    let (integer, integer_count, integer_total) =
        geometric_mean(results, |workload| workload.class == WorkloadClass::Integer);
    let (all, all_count, all_total) = geometric_mean(results, |_| true);
    let _ = writeln!(
        out,
        "  \"geomean_archway_over_qemu\": {{\"integer\": {}, \"integer_included\": {integer_count}, \"integer_total\": {integer_total}, \"all\": {}, \"all_included\": {all_count}, \"all_total\": {all_total}}}",
        json_number(integer),
        json_number(all)
    );
    out.push_str("}\n");
    let _ = std::io::stdout().write_all(out.as_bytes());
}

/// Why archway cannot run at all, if that is already clear before the first workload.
fn archway_problem(options: &Options) -> Option<String> {
    if options.archway.is_file() {
        None
    } else {
        Some(format!(
            "{} not found (cargo build --release -p archway, or pass --archway PATH)",
            options.archway.display()
        ))
    }
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("archway-bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let selected: Vec<&Workload> = WORKLOADS.iter().filter(|workload| options.selects(workload)).collect();
    if options.list {
        for workload in &selected {
            println!(
                "{:<18} {:<8} {:?} {}",
                workload.name,
                workload.class.name(),
                workload.program,
                workload.args.join(" ")
            );
        }
        return ExitCode::SUCCESS;
    }
    if selected.is_empty() {
        eprintln!("archway-bench: no workload matches {:?} (see --list)", options.filters);
        return ExitCode::from(2);
    }
    let harness =
        Harness { paths: Paths::new(&options.root), archway_problem: archway_problem(&options), options: &options };
    if let Some(problem) = &harness.archway_problem {
        eprintln!("archway-bench: {problem}; archway runs are reported as FAILED");
    }
    let results: Vec<WorkloadResult> = selected.iter().map(|workload| harness.run_workload(workload)).collect();
    if options.json {
        print_json(&results, &options);
    } else {
        print_table(&results, &options, harness.archway_problem.as_ref());
    }
    let all_archway_ok = results.iter().all(WorkloadResult::archway_ok);
    if options.strict && !all_archway_ok {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_text_is_deterministic_and_sized() {
        let first = generate_text(100_000);
        assert_eq!(first.len(), 100_000);
        assert_eq!(first, generate_text(100_000));
        assert!(first
            .iter()
            .all(|&byte| byte == b'\n' || byte == b'.' || byte == b' ' || byte.is_ascii_alphanumeric()));
    }

    fn timings(seconds: &[f64]) -> Vec<Timing> {
        seconds.iter().map(|&seconds| Timing { wall_seconds: seconds, cpu_seconds: seconds / 2.0 }).collect()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let result = EngineResult { timings: timings(&[3.0, 1.0, 2.0]), error: None };
        assert_eq!(result.median(Metric::Wall), Some(2.0));
        assert_eq!(result.median(Metric::Cpu), Some(1.0));
        let result = EngineResult { timings: timings(&[4.0, 1.0, 2.0, 3.0]), error: None };
        assert_eq!(result.median(Metric::Wall), Some(2.5));
        let failed = EngineResult { timings: timings(&[1.0]), error: Some("boom".into()) };
        assert_eq!(failed.median(Metric::Wall), None);
    }

    #[test]
    fn options_parse_flags_and_values() {
        let arguments =
            ["--runs", "5", "--filter=sha,md5", "--filter", "fib", "--json", "--strict", "--engine", "interp"];
        let options = Options::parse(arguments.iter().map(|argument| argument.to_string())).expect("valid options");
        assert_eq!(options.runs, 5);
        assert_eq!(options.filters, ["sha", "md5", "fib"]);
        assert!(options.json && options.strict);
        assert_eq!(options.archway_engine.as_deref(), Some("interp"));
        assert!(Options::parse(["--runs".to_string(), "0".to_string()]).is_err());
        assert!(Options::parse(["--bogus".to_string()]).is_err());
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
