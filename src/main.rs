//! The `flowscope` binary: parses arguments and runs a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use flowscope::cli;
use flowscope::model::Level;

/// Look at request flows through microservice architectures.
#[derive(Parser, Debug)]
#[command(name = "flowscope", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
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
    },
    /// Print what was read: format, spans, traces, services, instances, edges, warnings, timings.
    Stats {
        /// Trace files or directories (read recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
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
    },
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

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Deps { paths, level } => cli::deps(&paths, level.into()),
        Command::Stats { paths, json } => cli::stats(&paths, json),
        Command::Layout {
            paths,
            level,
            output,
            iterations,
        } => cli::layout(&paths, level.into(), output.as_deref(), iterations),
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
