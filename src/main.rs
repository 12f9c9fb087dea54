//! The `flowscope` binary: parses arguments and opens the window or runs a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use flowscope::cli;
use flowscope::derive::window::TimeBound;
use flowscope::ingest::spigo::ArchOptions;
use flowscope::model::Level;
use flowscope::simulate::{FlowFormat, SimOptions};

/// Look at request flows through microservice architectures.
#[derive(Parser, Debug)]
#[command(
    name = "flowscope",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Trace files or directories to open in the window (none: an empty window).
    paths: Vec<PathBuf>,
    /// Open the window comparing PATHS with this baseline (files or directories), as
    /// File → Compare with… does.
    #[arg(long, num_args = 1.., value_name = "BASELINE")]
    against: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the dependency links as Zipkin's /api/v2/dependencies JSON, sorted by parent then child.
    Deps {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Level of the graph.
        #[arg(long, value_enum, default_value_t = LevelArg::Service)]
        level: LevelArg,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Derive every level of the inputs and write it as an aggregate directory (Parquet tables:
    /// links with calls, errors and latency sketches, places, one row per trace) that deps and
    /// stats read like trace files.
    Aggregate {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The directory to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace an aggregate already there.
        #[arg(long)]
        force: bool,
        /// Run the derivation as a Spark job on this master (`spark://HOST:7077`, `local[N]`),
        /// with spark-submit from `SPARK_HOME` or the `pyspark` package; without it, in-process.
        #[arg(long, value_name = "MASTER")]
        spark: Option<String>,
        /// Partitions of traces on Spark (the shuffle's width).
        #[arg(long, default_value_t = 8, requires = "spark")]
        partitions: usize,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Print a trace file's spans (and declared nodes and edges) as lines keyed by trace id,
    /// for a cluster to shuffle (the first step of `aggregate --spark`).
    Spans {
        /// The trace file.
        path: PathBuf,
        /// The file's number in the whole load (orders files as a load of all of them would).
        #[arg(long, default_value_t = 0)]
        file: u32,
    },
    /// Read lines of `flowscope spans` (whole traces) on stdin and print their partial aggregate
    /// as JSON rows, for a cluster to merge (the second step of `aggregate --spark`). A window
    /// takes instants only (a partition does not know the whole run's first and last trace).
    Partial {
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Compare two runs at one level: nodes and edges added, removed and changed (calls, error
    /// rate, p50/p99), largest changes first.
    Diff {
        /// The files or directories before (read recursively).
        #[arg(required = true)]
        before: Vec<PathBuf>,
        /// The files or directories after.
        #[arg(long, required = true, num_args = 1..)]
        against: Vec<PathBuf>,
        /// Level of the graphs.
        #[arg(long, value_enum, default_value_t = LevelArg::Service)]
        level: LevelArg,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
        /// Also draw the union graph, coloured by the change, into this PNG.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Picture size in pixels (with -o).
        #[arg(long, default_value = "1600x1000", value_parser = parse_size)]
        size: [u32; 2],
        /// Colours for a dark or light background (with -o).
        #[arg(long, value_enum, default_value_t = ThemeArg::Dark)]
        theme: ThemeArg,
        /// Replace the PNG if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Print what was read: format, spans, traces, services, instances, edges, warnings, timings.
    Stats {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Simulate a Spigo architecture: write arch.json, graph.json (Spigo's -j) and flow.json into DIR.
    Simulate {
        /// A Spigo architecture file (`*_arch.json`).
        arch: PathBuf,
        /// Output directory.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Regions (Spigo's -w); past six, more region names are made up.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        regions: u32,
        /// Scale every count by this percentage (Spigo's -p).
        #[arg(long, default_value_t = 100)]
        scale: u32,
        /// Requests sent by the traffic source (the last service).
        #[arg(long, default_value_t = 500)]
        traces: u64,
        /// Seed of every random choice and of the start time.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Format of flow.json.
        #[arg(long, value_enum, default_value_t = FormatArg::ZipkinV1)]
        format: FormatArg,
        /// Do not kill the architecture's chaos-monkey victim half-way.
        #[arg(long)]
        no_victim: bool,
        /// Most edge records in graph.json; beyond, each instance connects to at most N instances of a dependency.
        #[arg(long, default_value_t = flowscope::simulate::DEFAULT_MAX_EDGES)]
        max_edges: u64,
    },
    /// Load, lay out and draw the graph into a PNG (the window's picture, without a window).
    Render {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Level of the graph.
        #[arg(long, value_enum, default_value_t = LevelArg::Service)]
        level: LevelArg,
        /// Show only nodes matching this expression, e.g. "service=api* and errors>0".
        #[arg(long, default_value = "")]
        filter: String,
        /// Light the path of this trace.
        #[arg(long)]
        trace: Option<String>,
        /// Picture size in pixels, e.g. 1600x1000 (each side at most 16384).
        #[arg(long, default_value = "1600x1000", value_parser = parse_size)]
        size: [u32; 2],
        /// Colours for a dark or light background.
        #[arg(long, value_enum, default_value_t = ThemeArg::Dark)]
        theme: ThemeArg,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Lay the graph out and write {"nodes":[{"id","x","y"}],"iterations","ms","stress"} as JSON.
    Layout {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Level of the graph.
        #[arg(long, value_enum, default_value_t = LevelArg::Service)]
        level: LevelArg,
        /// Output file (stdout when absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Run exactly this many iterations on the full graph instead of stopping at convergence.
        #[arg(long)]
        iterations: Option<usize>,
        /// Ignore regions and zones: lower stress where groups are densely connected, groups mixed.
        #[arg(long)]
        ungrouped: bool,
    },
    /// Follow a directory of trace files as they are written; print one line per applied batch.
    Watch {
        /// Directories (followed recursively) or files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON object per batch (`t_ms`, files, spans, traces, services, edges, `lag_ms`).
        #[arg(long)]
        json: bool,
        /// Poll the directory instead of using file-system notifications.
        #[arg(long)]
        poll: bool,
        /// Exit once nothing new has arrived for this many seconds (after something was read).
        #[arg(long, value_name = "SECS")]
        exit_idle: Option<f64>,
    },
}

/// Why a Spark job takes only instants as `--from`/`--to`.
const RELATIVE_ON_SPARK: &str = "flowscope: on Spark, --from/--to take instants (2024-05-06T07:08:09Z): an offset from the first or last trace needs the whole run, which no partition sees (aggregate in-process for offsets)";

/// `--from` / `--to`: only the traces that start inside the window.
#[derive(clap::Args, Debug, Clone)]
struct TimeArgs {
    /// Only traces starting at or after this: RFC 3339 (2024-05-06T07:08:09Z), +DURATION after
    /// the first trace's start or -DURATION before the last's (+30s, -5m, +1m30s).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Only traces starting before this (same spellings).
    #[arg(long, allow_hyphen_values = true)]
    to: Option<String>,
}

impl TimeArgs {
    /// The bounds, or the one line that says why a spelling is not a time (exit code 2).
    fn parse(&self) -> Result<cli::TimeArgs, String> {
        let bound = |flag: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| TimeBound::parse(t).map_err(|e| format!("flowscope: --{flag}: {e}")))
                .transpose()
        };
        Ok(cli::TimeArgs {
            from: bound("from", &self.from)?,
            to: bound("to", &self.to)?,
        })
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    ZipkinV1,
    ZipkinV2,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ThemeArg {
    Dark,
    Light,
}

impl From<ThemeArg> for flowscope::scene::Theme {
    fn from(t: ThemeArg) -> Self {
        match t {
            ThemeArg::Dark => Self::Dark,
            ThemeArg::Light => Self::Light,
        }
    }
}

/// Parses `WIDTHxHEIGHT`.
fn parse_size(text: &str) -> Result<[u32; 2], String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT"))?;
    let side = |v: &str| -> Result<u32, String> {
        let n: u32 = v
            .trim()
            .parse()
            .map_err(|_| format!("{v:?} is not a number of pixels"))?;
        if (1..=16_384).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} is outside 1–16384 pixels"))
        }
    };
    Ok([side(w)?, side(h)?])
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LevelArg {
    Instance,
    Service,
    Zone,
    Region,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::Instance => Self::Instance,
            LevelArg::Service => Self::Service,
            LevelArg::Zone => Self::Zone,
            LevelArg::Region => Self::Region,
        }
    }
}

/// Prints one line about a bad argument and gives the usage exit code.
fn usage_error(line: &str) -> ExitCode {
    eprintln!("{line}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(command) = args.command else {
        if let Some(missing) = args.paths.iter().chain(&args.against).find(|p| !p.exists()) {
            use clap::CommandFactory as _;
            Args::command()
                .error(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "no such file, directory or subcommand: {}",
                        missing.display()
                    ),
                )
                .exit();
        }
        #[cfg(feature = "ui")]
        return match flowscope::ui::run(args.paths, args.against) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("flowscope: {err:#}");
                ExitCode::from(1)
            }
        };
        #[cfg(not(feature = "ui"))]
        {
            eprintln!("flowscope: this build has no window (feature `ui`); use a subcommand");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Deps { paths, level, time } => match time.parse() {
            Ok(time) => cli::deps(&paths, level.into(), time),
            Err(line) => return usage_error(&line),
        },
        Command::Aggregate {
            paths,
            output,
            force,
            spark,
            partitions,
            time,
        } => match (time.parse(), spark) {
            (Err(line), _) => return usage_error(&line),
            (Ok(time), None) => cli::aggregate::aggregate(&paths, &output, force, time),
            (Ok(time), Some(_)) if !time.is_absolute() => {
                return usage_error(RELATIVE_ON_SPARK);
            }
            (Ok(_), Some(master)) => cli::aggregate::aggregate_on_spark(
                &paths,
                &output,
                force,
                &master,
                partitions,
                [&time.from, &time.to],
            ),
        },
        Command::Spans { path, file } => cli::aggregate::spans(&path, file),
        Command::Partial { time } => match time.parse() {
            Ok(time) if time.is_absolute() => cli::aggregate::partial(time),
            Ok(_) => return usage_error(RELATIVE_ON_SPARK),
            Err(line) => return usage_error(&line),
        },
        Command::Diff {
            before,
            against,
            level,
            json,
            output,
            size,
            theme,
            force,
            time,
        } => match time.parse() {
            Ok(time) => {
                let png = output.map(|out| cli::DiffPng {
                    out,
                    size,
                    theme: theme.into(),
                    force,
                });
                cli::diff(&before, &against, level.into(), time, json, png.as_ref())
            }
            Err(line) => return usage_error(&line),
        },
        Command::Stats { paths, json, time } => match time.parse() {
            Ok(time) => cli::stats(&paths, json, time),
            Err(line) => return usage_error(&line),
        },
        Command::Simulate {
            arch,
            out,
            regions,
            scale,
            traces,
            seed,
            format,
            no_victim,
            max_edges,
        } => {
            let options = SimOptions {
                arch: ArchOptions {
                    scale_percent: scale,
                    regions: regions as usize,
                },
                traces,
                seed,
                format: match format {
                    FormatArg::ZipkinV1 => FlowFormat::ZipkinV1,
                    FormatArg::ZipkinV2 => FlowFormat::ZipkinV2,
                },
                victim: !no_victim,
                max_edges,
                progress: true,
            };
            cli::simulate(&arch, &out, &options)
        }
        Command::Render {
            paths,
            output,
            level,
            filter,
            trace,
            size,
            theme,
            force,
            time,
        } => {
            let time = match time.parse() {
                Ok(time) => time,
                Err(line) => return usage_error(&line),
            };
            let options = cli::RenderOptions {
                level: level.into(),
                filter,
                trace,
                size,
                theme: theme.into(),
                force,
                time,
            };
            match cli::render(&paths, &output, &options) {
                Err(e) if e.downcast_ref::<cli::RenderArgError>().is_some() => {
                    eprintln!("flowscope: {e}");
                    return ExitCode::from(2);
                }
                other => other,
            }
        }
        Command::Layout {
            paths,
            level,
            output,
            iterations,
            ungrouped,
        } => cli::layout(
            &paths,
            level.into(),
            output.as_deref(),
            iterations,
            ungrouped,
        ),
        Command::Watch {
            paths,
            json,
            poll,
            exit_idle,
        } => cli::watch(
            &paths,
            &cli::WatchArgs {
                json,
                poll,
                exit_idle: exit_idle
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(std::time::Duration::from_secs_f64),
            },
        ),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("flowscope: {err:#}");
            ExitCode::from(1)
        }
    }
}
