//! [`ListSets`]: two lists per trace, each distinct pair of lists kept once (traces mostly repeat a few paths).

use std::hash::{BuildHasher as _, Hash, Hasher as _};

use rustc_hash::FxBuildHasher;

/// Clamped to `u32` (a store holds fewer than 2³² spans, so this never clamps in practice).
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// By trace (in the order pushed), two lists, `A`s and `B`s. Each distinct pair of lists is held
/// once, in two flat arrays, and a trace holds the number of its pair: a gigabyte of traces
/// crosses a few thousand distinct service paths, not half a million.
#[derive(Clone, Debug)]
pub struct ListSets<A, B> {
    a: Vec<A>,
    b: Vec<B>,
    /// By set: where its `A`s end in `a` and its `B`s end in `b`.
    ends: Vec<[u32; 2]>,
    /// By trace: its set.
    of_trace: Vec<u32>,
    /// The sets by the hash of their contents, to find one already held.
    lookup: hashbrown::HashTable<u32>,
}

impl<A, B> Default for ListSets<A, B> {
    fn default() -> Self {
        Self {
            a: Vec::new(),
            b: Vec::new(),
            ends: Vec::new(),
            of_trace: Vec::new(),
            lookup: hashbrown::HashTable::new(),
        }
    }
}

fn hash_of<A: Hash, B: Hash>(a: &[A], b: &[B]) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    a.hash(&mut h);
    b.hash(&mut h);
    h.finish()
}

/// Set `set`'s lists in the flat arrays.
fn lists<'a, A, B>(a: &'a [A], b: &'a [B], ends: &[[u32; 2]], set: u32) -> (&'a [A], &'a [B]) {
    let set = set as usize;
    let [a0, b0] = match set.checked_sub(1) {
        Some(before) => ends.get(before).copied().unwrap_or_default(),
        None => [0, 0],
    };
    let Some(&[a1, b1]) = ends.get(set) else {
        return (&[], &[]);
    };
    (
        a.get(a0 as usize..a1 as usize).unwrap_or_default(),
        b.get(b0 as usize..b1 as usize).unwrap_or_default(),
    )
}

/// Appends a new set of `a` and `b` to the flat arrays; gives its number.
fn add<A: Copy, B: Copy>(
    all_a: &mut Vec<A>,
    all_b: &mut Vec<B>,
    ends: &mut Vec<[u32; 2]>,
    a: &[A],
    b: &[B],
) -> u32 {
    let set = as_u32(ends.len());
    all_a.extend_from_slice(a);
    all_b.extend_from_slice(b);
    ends.push([as_u32(all_a.len()), as_u32(all_b.len())]);
    set
}

/// `then(a, b)` with `a` and `b` sorted and deduplicated, both emptied after.
fn sorted<A: Ord, B: Ord, R>(
    a: &mut Vec<A>,
    b: &mut Vec<B>,
    then: impl FnOnce(&[A], &[B]) -> R,
) -> R {
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    let out = then(a, b);
    a.clear();
    b.clear();
    out
}

impl<A: Copy + Hash + Eq, B: Copy + Hash + Eq> ListSets<A, B> {
    /// The number of the set holding exactly `a` and `b`, added if new (no trace is added).
    pub fn intern(&mut self, a: &[A], b: &[B]) -> u32 {
        let hash = hash_of(a, b);
        let Self {
            a: all_a,
            b: all_b,
            ends,
            lookup,
            ..
        } = self;
        if let Some(&set) = lookup.find(hash, |&s| lists(all_a, all_b, ends, s) == (a, b)) {
            return set;
        }
        let set = add(all_a, all_b, ends, a, b);
        lookup.insert_unique(hash, set, |&s| {
            let (a, b) = lists(all_a, all_b, ends, s);
            hash_of(a, b)
        });
        set
    }

    /// [`ListSets::intern`] of `a` and `b` sorted and deduplicated (here); both are emptied.
    pub fn intern_unsorted(&mut self, a: &mut Vec<A>, b: &mut Vec<B>) -> u32
    where
        A: Ord,
        B: Ord,
    {
        sorted(a, b, |a, b| self.intern(a, b))
    }

    /// A new set of `a` and `b` sorted and deduplicated (here; both are emptied), numbered
    /// without looking for an equal one: for lists known to differ from every set held (an equal
    /// one is then held twice, which costs room, not correctness). Such a set is not found by
    /// [`ListSets::intern`].
    pub fn add_unsorted(&mut self, a: &mut Vec<A>, b: &mut Vec<B>) -> u32
    where
        A: Ord,
        B: Ord,
    {
        sorted(a, b, |a, b| {
            add(&mut self.a, &mut self.b, &mut self.ends, a, b)
        })
    }

    /// Adds the next trace, going through set `set` (from [`ListSets::intern`]).
    pub fn push_set(&mut self, set: u32) {
        self.of_trace.push(set);
    }

    /// Adds the next trace with lists `a` and `b`.
    pub fn push(&mut self, a: &[A], b: &[B]) {
        let set = self.intern(a, b);
        self.push_set(set);
    }

    /// Number of traces.
    pub fn len(&self) -> usize {
        self.of_trace.len()
    }

    /// No trace is recorded.
    pub fn is_empty(&self) -> bool {
        self.of_trace.is_empty()
    }

    /// Number of distinct sets.
    pub fn distinct(&self) -> usize {
        self.ends.len()
    }

    /// Set `set`'s lists (empty for an unknown set).
    pub fn set(&self, set: u32) -> (&[A], &[B]) {
        lists(&self.a, &self.b, &self.ends, set)
    }

    /// Every distinct set's lists, by number.
    pub fn sets(&self) -> impl Iterator<Item = (&[A], &[B])> {
        (0..as_u32(self.ends.len())).map(|s| self.set(s))
    }

    /// By trace, the number of its set.
    pub fn set_of_trace(&self) -> &[u32] {
        &self.of_trace
    }

    /// Trace `trace`'s lists (empty for an unknown trace).
    pub fn get(&self, trace: usize) -> (&[A], &[B]) {
        match self.of_trace.get(trace) {
            Some(&set) => self.set(set),
            None => (&[], &[]),
        }
    }

    /// Every trace's lists, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[A], &[B])> {
        self.of_trace.iter().map(|&s| self.set(s))
    }

    /// Gives back spare capacity (once every trace is pushed).
    pub fn shrink_to_fit(&mut self) {
        self.a.shrink_to_fit();
        self.b.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.of_trace.shrink_to_fit();
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.a.capacity() * size_of::<A>()
            + self.b.capacity() * size_of::<B>()
            + self.ends.capacity() * 8
            + self.of_trace.capacity() * 4
            + self.lookup.capacity() * 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lists_share_one_set_and_every_trace_reads_back_its_own() {
        let mut sets: ListSets<u32, char> = ListSets::default();
        sets.push(&[1, 2], &['x']);
        sets.push(&[1], &['x']);
        sets.push(&[1, 2], &['x']);
        sets.push(&[], &[]);
        sets.push(&[1], &['x', 'y']);
        assert_eq!(sets.len(), 5);
        assert_eq!(sets.distinct(), 4);
        assert_eq!(sets.set_of_trace(), &[0, 1, 0, 2, 3]);
        let all: Vec<_> = sets.iter().collect();
        assert_eq!(
            all,
            vec![
                (&[1, 2][..], &['x'][..]),
                (&[1][..], &['x'][..]),
                (&[1, 2][..], &['x'][..]),
                (&[][..], &[][..]),
                (&[1][..], &['x', 'y'][..]),
            ]
        );
        assert_eq!(sets.get(9), (&[][..], &[][..]));
    }

    #[test]
    fn a_set_added_without_looking_reads_back_sorted() {
        let mut sets: ListSets<u32, char> = ListSets::default();
        let first = sets.intern(&[1], &['x']);
        let (mut a, mut b) = (vec![3, 1, 3], vec!['y', 'x']);
        let added = sets.add_unsorted(&mut a, &mut b);
        assert!(a.is_empty() && b.is_empty());
        assert_eq!((first, added), (0, 1));
        sets.push_set(added);
        sets.push_set(first);
        assert_eq!(sets.get(0), (&[1, 3][..], &['x', 'y'][..]));
        assert_eq!(sets.get(1), (&[1][..], &['x'][..]));
        assert_eq!(sets.distinct(), 2);
    }
}
