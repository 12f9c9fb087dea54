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

/// Call durations (µs) of a link, 4 bytes each: the rare ones that do not fit 32 bits (over 71
/// minutes) are kept beside, 8 bytes each. A gigabyte's links hold millions of durations at two
/// levels until the graphs are assembled. Sorted ([`Durations::sort`]), the short ones then the
/// long ones are one sorted run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durations {
    short: Vec<u32>,
    long: Vec<u64>,
}

impl Durations {
    /// None yet.
    pub const fn new() -> Self {
        Self {
            short: Vec::new(),
            long: Vec::new(),
        }
    }

    /// Adds a duration.
    #[inline]
    pub fn push(&mut self, micros: u64) {
        match u32::try_from(micros) {
            Ok(short) => self.short.push(short),
            Err(_) => self.long.push(micros),
        }
    }

    /// Moves every duration of `other` here.
    pub fn append(&mut self, other: &mut Self) {
        self.short.append(&mut other.short);
        self.long.append(&mut other.long);
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.short.is_empty() && self.long.is_empty()
    }

    /// Sorts them and gives their spare room back.
    pub fn sort(&mut self) {
        self.short.sort_unstable();
        self.short.shrink_to_fit();
        self.long.sort_unstable();
        self.long.shrink_to_fit();
    }

    /// Every duration, short ones first (sorted after [`Durations::sort`]).
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.short
            .iter()
            .map(|&d| u64::from(d))
            .chain(self.long.iter().copied())
    }

    /// The smallest, once sorted.
    fn first(&self) -> Option<u64> {
        self.short
            .first()
            .map(|&d| u64::from(d))
            .or_else(|| self.long.first().copied())
    }

    /// The largest, once sorted.
    fn last(&self) -> Option<u64> {
        self.long
            .last()
            .copied()
            .or_else(|| self.short.last().map(|&d| u64::from(d)))
    }

    /// How many are at most `v`, once sorted.
    fn at_or_below(&self, v: u64) -> usize {
        self.short.partition_point(|&d| u64::from(d) <= v) + self.long.partition_point(|&d| d <= v)
    }

    /// The `k`-th smallest (0-based), once sorted.
    fn get(&self, k: usize) -> Option<u64> {
        match self.short.get(k) {
            Some(&d) => Some(u64::from(d)),
            None => self.long.get(k - self.short.len()).copied(),
        }
    }
}

impl FromIterator<u64> for Durations {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut d = Self::default();
        for micros in iter {
            d.push(micros);
        }
        d
    }
}

impl Latency {
    /// From durations in sorted parts ([`Durations::sort`]; their concatenation need not be
    /// sorted): exactly [`Latency::from_durations`] of them all, without copying them into one
    /// list (the zone and region edges of a gigabyte stand for millions of calls). `None` when
    /// there are none.
    pub fn from_sorted_parts(parts: &[&Durations]) -> Option<Self> {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        if n == 0 {
            return None;
        }
        let sum: u128 = parts.iter().flat_map(|p| p.iter()).map(u128::from).sum();
        if let [one] = parts {
            return Self::of_ranks(n, sum, |k| one.get(k));
        }
        // The k-th smallest (0-based) of the union: the least value with more than k at or below it.
        let kth = |k: usize| -> Option<u64> {
            let mut lo = parts.iter().filter_map(|p| p.first()).min()?;
            let mut hi = parts.iter().filter_map(|p| p.last()).max()?;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let at_or_below: usize = parts.iter().map(|p| p.at_or_below(mid)).sum();
                if at_or_below > k {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            Some(lo)
        };
        Self::of_ranks(n, sum, kth)
    }

    /// Of `n` values summing to `sum`, `kth` giving the k-th smallest (0-based); `None` when
    /// there are none.
    fn of_ranks(n: usize, sum: u128, kth: impl Fn(usize) -> Option<u64>) -> Option<Self> {
        Some(Self {
            count: n as u64,
            mean_micros: sum.checked_div(n as u128)? as u64,
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

    /// From durations (reordered in place); `None` when there are none.
    pub fn from_durations(d: &mut [u64]) -> Option<Self> {
        d.sort_unstable();
        let sum = d.iter().map(|&x| u128::from(x)).sum();
        Self::of_ranks(d.len(), sum, |k| d.get(k).copied())
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
        // Some durations past 32 bits (over 71 minutes), kept beside the short ones.
        let long = 1u64 << 32;
        for lens in [vec![1], vec![3, 0, 5], vec![100, 1, 37, 250], vec![2; 64]] {
            for spread in [5_000, long + 5_000] {
                let raw: Vec<Vec<u64>> = lens
                    .iter()
                    .map(|&n| (0..n).map(|_| next() % spread).collect())
                    .collect();
                let mut all: Vec<u64> = raw.concat();
                let mut parts: Vec<Durations> = raw.into_iter().map(Durations::from_iter).collect();
                for p in &mut parts {
                    p.sort();
                }
                let views: Vec<&Durations> = parts.iter().collect();
                assert_eq!(
                    Latency::from_sorted_parts(&views),
                    Latency::from_durations(&mut all),
                    "{lens:?} {spread}"
                );
            }
        }
        // One part holding both kinds: the median is short, the 99th percentile long.
        let mut one: Durations = (0..100)
            .map(|i| if i < 98 { i } else { long + i })
            .collect();
        one.sort();
        let want = Latency::from_durations(&mut one.iter().collect::<Vec<_>>());
        assert_eq!(Latency::from_sorted_parts(&[&one]), want);
        assert_eq!(want.map(|l| l.p99_micros), Some(long + 98));
        assert_eq!(Latency::from_sorted_parts(&[]), None);
        let none = Durations::default();
        assert_eq!(Latency::from_sorted_parts(&[&none, &none]), None);
    }
}
