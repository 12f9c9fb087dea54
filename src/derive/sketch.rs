//! [`Sketch`]: a mergeable histogram of call durations, so the latency of partial aggregates (a cluster's partitions) adds up; its quantiles are within 1.6 % of the exact ones, its mean exact.
//!
//! Durations below 64 µs have a bucket each; above, every power of two is cut into 32 buckets of
//! equal width (HDR histogram's layout with five sub-bucket bits), so a bucket is at most 1/32 of
//! its lower bound wide and its midpoint is within 1/64 of any value in it. A bucket number fits
//! in a `u16` (at most 1,919). Two sketches merge by adding counts bucket by bucket: summing rows
//! of `(edge, bucket, count)` in a shuffle is a merge.

use super::latency::Latency;

/// Sub-bucket bits: 32 buckets per power of two.
const SUB_BITS: u32 = 5;

/// Values below this have a bucket of their own.
const LINEAR: u64 = 1 << (SUB_BITS + 1);

/// The bucket of a duration (µs).
pub fn bucket_of(micros: u64) -> u16 {
    if micros < LINEAR {
        return micros as u16;
    }
    let exponent = micros.ilog2();
    let top = (micros >> (exponent - SUB_BITS)) as u32;
    (LINEAR as u32 + (exponent - SUB_BITS - 1) * (1 << SUB_BITS) + (top - (1 << SUB_BITS))) as u16
}

/// The value a bucket stands for: itself below 64 µs, else the midpoint of its range.
pub fn value_of(bucket: u16) -> u64 {
    let b = u64::from(bucket);
    if b < LINEAR {
        return b;
    }
    let k = b - LINEAR;
    let exponent = k / (1 << SUB_BITS) + u64::from(SUB_BITS) + 1;
    let top = k % (1 << SUB_BITS) + (1 << SUB_BITS);
    let width = 1u64 << (exponent - u64::from(SUB_BITS));
    (top * width).saturating_add(width / 2)
}

/// Counts of durations by bucket, with their exact sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sketch {
    /// `(bucket, count)`, by bucket, counts above zero.
    buckets: Vec<(u16, u64)>,
    /// Sum of the durations, µs.
    sum: u64,
}

impl Sketch {
    /// The sketch of `durations` (µs).
    pub fn of(durations: impl IntoIterator<Item = u64>) -> Self {
        let mut sum = 0u64;
        let mut buckets: Vec<u16> = durations
            .into_iter()
            .map(|d| {
                sum = sum.saturating_add(d);
                bucket_of(d)
            })
            .collect();
        buckets.sort_unstable();
        let mut out = Self {
            buckets: Vec::new(),
            sum,
        };
        for b in buckets {
            match out.buckets.last_mut() {
                Some((last, n)) if *last == b => *n += 1,
                _ => out.buckets.push((b, 1)),
            }
        }
        out
    }

    /// A sketch from stored parts: `(bucket, count)` in any order (repeats add up) and the sum.
    pub fn from_parts(buckets: impl IntoIterator<Item = (u16, u64)>, sum: u64) -> Self {
        let mut out = Self {
            buckets: Vec::new(),
            sum,
        };
        let mut parts: Vec<(u16, u64)> = buckets.into_iter().filter(|&(_, n)| n > 0).collect();
        parts.sort_unstable();
        for (b, n) in parts {
            match out.buckets.last_mut() {
                Some((last, have)) if *last == b => *have = have.saturating_add(n),
                _ => out.buckets.push((b, n)),
            }
        }
        out
    }

    /// Adds `other`'s durations.
    pub fn merge(&mut self, other: &Self) {
        let parts = self.buckets.iter().chain(&other.buckets).copied();
        *self = Self::from_parts(
            parts.collect::<Vec<_>>(),
            self.sum.saturating_add(other.sum),
        );
    }

    /// `(bucket, count)`, by bucket.
    pub fn buckets(&self) -> &[(u16, u64)] {
        &self.buckets
    }

    /// Sum of the durations, µs.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// Number of durations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, n)| n).sum()
    }

    /// The value of the 0-based `rank`-th smallest duration's bucket.
    fn at_rank(&self, rank: u64) -> Option<u64> {
        let mut seen = 0u64;
        for &(b, n) in &self.buckets {
            seen += n;
            if seen > rank {
                return Some(value_of(b));
            }
        }
        None
    }

    /// Count, exact mean, and nearest-rank p50 and p99 (as [`Latency`] ranks them) from the
    /// buckets; `None` without durations.
    pub fn latency(&self) -> Option<Latency> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = |q: f64| ((n as f64 * q).ceil() as u64).saturating_sub(1).min(n - 1);
        Some(Latency {
            count: n,
            mean_micros: self.sum / n,
            p50_micros: self.at_rank(rank(0.5))?,
            p99_micros: self.at_rank(rank(0.99))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_continuous_and_narrow() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            63,
            64,
            65,
            127,
            128,
            129,
            1000,
            4095,
            4096,
            1 << 40,
            u64::MAX,
        ] {
            let b = bucket_of(v);
            assert!(b >= last, "{v}");
            last = b;
            let mid = value_of(b);
            let err = mid.abs_diff(v) as f64 / v.max(1) as f64;
            assert!(err <= 1.0 / 64.0 + 1e-9, "{v}: bucket {b} stands for {mid}");
        }
        assert_eq!(bucket_of(63), 63);
        assert_eq!(bucket_of(64), 64);
        assert_eq!(bucket_of(127), 95);
        assert_eq!(bucket_of(128), 96);
        assert!(bucket_of(u64::MAX) <= 1919);
        // Every bucket's value falls back into it.
        for b in 0..=bucket_of(u64::MAX) {
            assert_eq!(bucket_of(value_of(b)), b, "bucket {b}");
        }
    }

    #[test]
    fn quantiles_are_near_the_exact_ones_and_merging_adds_up() {
        let durations: Vec<u64> = (0..10_000u64).map(|i| (i * 7919) % 250_000 + 10).collect();
        let mut exact = durations.clone();
        let want = Latency::from_durations(&mut exact).unwrap();
        let (a, b) = durations.split_at(3_333);
        let mut merged = Sketch::of(a.iter().copied());
        merged.merge(&Sketch::of(b.iter().copied()));
        assert_eq!(merged, Sketch::of(durations.iter().copied()));
        let got = merged.latency().unwrap();
        assert_eq!(got.count, want.count);
        assert_eq!(got.mean_micros, want.mean_micros);
        for (g, w) in [
            (got.p50_micros, want.p50_micros),
            (got.p99_micros, want.p99_micros),
        ] {
            assert!(g.abs_diff(w) as f64 <= w as f64 / 64.0 + 1.0, "{g} vs {w}");
        }
        assert_eq!(Sketch::default().latency(), None);
        assert_eq!(
            Sketch::from_parts([(70, 2), (3, 1), (70, 1)], 9).buckets(),
            &[(3, 1), (70, 3)]
        );
    }
}
