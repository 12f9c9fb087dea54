//! The live tail's reader fed a file in arbitrary pieces: the first bytes choose the cuts, the
//! rest is the file. Whatever the cuts, it must read what a one-shot read of the file reads, as
//! long as the format is the same: a growing file's format is decided from what has arrived, so
//! garbage whose sniffed format changes as it grows may be read as something else.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 16);
    let (cut_bytes, file) = rest.split_at((n * 2).min(rest.len()));
    let splits: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(c[0]) << 8 | usize::from(*c.get(1).unwrap_or(&0)))
        .map(|s| {
            if file.is_empty() {
                0
            } else {
                s % (file.len() + 1)
            }
        })
        .collect();
    let pieces = flowscope::source::tail::follow_in_pieces(file, &splits);
    let whole = flowscope::source::tail::follow_in_pieces(file, &[]);
    let first_cut = splits
        .iter()
        .copied()
        .filter(|&s| s > 0)
        .min()
        .unwrap_or(file.len());
    let sniff = flowscope::ingest::detect::sniff;
    let same_format = matches!(
        (sniff(&file[..first_cut]), sniff(file)),
        (Ok(a), Ok(b)) if a == b
    );
    if same_format {
        assert_eq!(
            pieces.batch.spans.len(),
            whole.batch.spans.len(),
            "cuts {splits:?}"
        );
    }
    common::derive(pieces.batch);
});
