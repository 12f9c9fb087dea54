//! [`Latency`]: count, mean, median and 99th percentile of an edge's call durations, exact, from one list or from many sorted ones.

/// Latency of the calls an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// Calls with a known duration.
    pub count: u64,
    /// Mean, µs.
    pub mean_micros: u64,
    /// Median, µs.
    pub p50_micros: u64,
    /// 99th percentile, µs.
    pub p99_micros: u64,
}

impl Latency {
    /// From durations in sorted runs (their concatenation need not be sorted): exactly
    /// [`Latency::from_durations`] of them all, without copying them into one list (the zone
    /// and region edges of a gigabyte stand for millions of calls). `None` when there are none.
    pub fn from_sorted_parts(parts: &[&[u64]]) -> Option<Self> {
        if let [one] = parts {
            return Self::from_sorted(one);
        }
        let n: usize = parts.iter().map(|p| p.len()).sum();
        if n == 0 {
            return None;
        }
        // The k-th smallest (0-based) of the union: the least value with more than k at or below it.
        let kth = |k: usize| -> Option<u64> {
            let mut lo = parts.iter().filter_map(|p| p.first()).copied().min()?;
            let mut hi = parts.iter().filter_map(|p| p.last()).copied().max()?;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let at_or_below: usize =
                    parts.iter().map(|p| p.partition_point(|&x| x <= mid)).sum();
                if at_or_below > k {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            Some(lo)
        };
        let sum: u128 = parts
            .iter()
            .flat_map(|p| p.iter())
            .map(|&x| u128::from(x))
            .sum();
        Some(Self {
            count: n as u64,
            mean_micros: sum.div_euclid(n as u128) as u64,
            p50_micros: kth(Self::rank(n, 0.5))?,
            p99_micros: kth(Self::rank(n, 0.99))?,
        })
    }

    /// The 0-based rank of quantile `q` of `n` values (nearest rank).
    fn rank(n: usize, q: f64) -> usize {
        ((n as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(n.saturating_sub(1))
    }

    fn from_sorted(d: &[u64]) -> Option<Self> {
        let n = d.len();
        Some(Self {
            count: n as u64,
            mean_micros: d
                .iter()
                .map(|&x| u128::from(x))
                .sum::<u128>()
                .checked_div(n as u128)? as u64,
            p50_micros: *d.get(Self::rank(n, 0.5))?,
            p99_micros: *d.get(Self::rank(n, 0.99))?,
        })
    }

    /// From durations (reordered in place); `None` when there are none.
    pub fn from_durations(d: &mut [u64]) -> Option<Self> {
        if d.is_empty() {
            return None;
        }
        d.sort_unstable();
        Self::from_sorted(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_parts_give_exactly_what_the_whole_list_gives() {
        // Deterministic pseudo-random runs of different lengths, with repeats and one empty run.
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) % 5_000
        };
        for lens in [vec![1], vec![3, 0, 5], vec![100, 1, 37, 250], vec![2; 64]] {
            let mut parts: Vec<Vec<u64>> = lens
                .iter()
                .map(|&n| (0..n).map(|_| next()).collect())
                .collect();
            let mut all: Vec<u64> = parts.concat();
            for p in &mut parts {
                p.sort_unstable();
            }
            let views: Vec<&[u64]> = parts.iter().map(Vec::as_slice).collect();
            assert_eq!(
                Latency::from_sorted_parts(&views),
                Latency::from_durations(&mut all),
                "{lens:?}"
            );
        }
        assert_eq!(Latency::from_sorted_parts(&[]), None);
        assert_eq!(Latency::from_sorted_parts(&[&[], &[]]), None);
    }
}
