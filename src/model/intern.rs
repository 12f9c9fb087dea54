//! String interning: every service name, tag key and value is stored once and referred to by a [`Sym`].

use std::num::NonZeroU32;

use std::hash::Hasher as _;

use hashbrown::HashTable;

/// Longest string kept whole, in bytes (a tag value, name or id); longer ones are cut when
/// interned and counted ([`Interner::take_cut`]).
pub const MAX_STRING_BYTES: usize = 64 << 10;
use rustc_hash::FxHasher;

/// A handle to an interned string. `Option<Sym>` is as small as `Sym`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Sym(NonZeroU32);

impl Sym {
    /// The position of the string in its [`Interner`].
    #[inline]
    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }

    /// The handle as a nonzero word (what a packed [`crate::model::Span`] keeps).
    #[inline]
    pub(crate) fn bits(self) -> u32 {
        self.0.get()
    }

    /// [`Sym::bits`] back; a 0, which `bits` never gives, is the first string.
    #[inline]
    pub(crate) fn of_bits(bits: u32) -> Self {
        Self(NonZeroU32::new(bits).unwrap_or(NonZeroU32::MIN))
    }

    #[inline]
    fn from_index(index: usize) -> Self {
        // The interner never holds more than u32::MAX - 1 strings (see `Interner::intern`).
        Self(NonZeroU32::MIN.saturating_add(index as u32))
    }
}

/// A string's key in the table: its length and its first and last eight bytes (for strings of at
/// most 16 bytes, which most trace strings are, these are the whole string), so most lookups
/// compare two words and never follow a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    head: u64,
    tail: u64,
    len: u32,
}

/// Longest string whose [`Key`] holds all of it.
const INLINE: usize = 16;

/// A little-endian word of up to eight bytes (zeros past the end).
#[inline]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    if let Some(chunk) = b.get(..8) {
        w.copy_from_slice(chunk);
    }
    u64::from_le_bytes(w)
}

/// A little-endian half word of four bytes.
#[inline]
fn half(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    if let Some(chunk) = b.get(..4) {
        w.copy_from_slice(chunk);
    }
    u64::from(u32::from_le_bytes(w))
}

impl Key {
    /// The key of `b`: overlapping loads, no loop. Given the length, the words fix every byte of a
    /// string of up to [`INLINE`] bytes.
    #[inline]
    fn of(b: &[u8]) -> Self {
        // Interned strings are cut to MAX_STRING_BYTES first, so the length fits.
        let len = b.len();
        let (head, tail) = if len >= 8 {
            (word(b), word(b.get(len - 8..).unwrap_or_default()))
        } else if len >= 4 {
            let last = half(b.get(len - 4..).unwrap_or_default());
            (half(b) | last << 32, 0)
        } else {
            let at = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
            (at(0) | at(len / 2) << 8 | at(len.wrapping_sub(1)) << 16, 0)
        };
        Self {
            head,
            tail,
            len: len as u32,
        }
    }

    /// The hash: one folded multiply of the key for short strings; `FxHash` of the bytes for long
    /// ones.
    #[inline]
    fn hash(self, b: &[u8]) -> u64 {
        if self.len as usize > INLINE {
            let mut h = FxHasher::default();
            h.write(b);
            return h.finish();
        }
        let a = self.head ^ 0x243f_6a88_85a3_08d3;
        let c = self.tail ^ u64::from(self.len).rotate_left(56) ^ 0xa409_3822_299f_31d0;
        let m = u128::from(a) * u128::from(c);
        (m as u64) ^ (m >> 64) as u64
    }
}

/// A table entry: the string's key and its index.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: Key,
    index: u32,
}

/// A set of strings, each with a stable [`Sym`] in insertion order.
#[derive(Default, Clone, Debug)]
pub struct Interner {
    /// Symbol indices with their strings' keys, hashed by [`Key::hash`].
    table: HashTable<Entry>,
    strings: Vec<Box<str>>,
    /// Strings cut to [`MAX_STRING_BYTES`] since the last [`Interner::take_cut`].
    cut: u64,
}

/// `s` cut to at most [`MAX_STRING_BYTES`] at a character boundary.
fn cut_str(s: &str) -> &str {
    let mut n = MAX_STRING_BYTES.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s.get(..n).unwrap_or_default()
}

/// `b` cut to at most [`MAX_STRING_BYTES`], backing off an incomplete character at the cut.
fn cut_bytes(b: &[u8]) -> &[u8] {
    let cut = b.get(..MAX_STRING_BYTES).unwrap_or(b);
    match std::str::from_utf8(cut) {
        Err(e) if e.error_len().is_none() => cut.get(..e.valid_up_to()).unwrap_or(cut),
        _ => cut,
    }
}

impl Interner {
    /// Returns the symbol for `s`, adding it if it is new.
    pub fn intern(&mut self, mut s: &str) -> Sym {
        if s.len() > MAX_STRING_BYTES {
            s = cut_str(s);
            self.cut += 1;
        }
        let key = Key::of(s.as_bytes());
        let hash = key.hash(s.as_bytes());
        match self.find(key, hash, s.as_bytes()) {
            Some(sym) => sym,
            None => self.insert(key, hash, s.into()),
        }
    }

    /// Interns raw bytes: a string already present is found without checking UTF-8 again.
    /// `None` when the bytes are new and not valid UTF-8.
    #[inline]
    pub fn intern_bytes(&mut self, mut b: &[u8]) -> Option<Sym> {
        if b.len() > MAX_STRING_BYTES {
            b = cut_bytes(b);
            self.cut += 1;
        }
        let key = Key::of(b);
        let hash = key.hash(b);
        if let Some(sym) = self.find(key, hash, b) {
            return Some(sym);
        }
        let s = std::str::from_utf8(b).ok()?;
        Some(self.insert(key, hash, s.into()))
    }

    #[inline]
    fn find(&self, key: Key, hash: u64, b: &[u8]) -> Option<Sym> {
        let strings = &self.strings;
        self.table
            .find(hash, |e| {
                e.key == key
                    && (key.len as usize <= INLINE
                        || strings
                            .get(e.index as usize)
                            .is_some_and(|s| s.as_bytes() == b))
            })
            .map(|e| Sym::from_index(e.index as usize))
    }

    fn insert(&mut self, key: Key, hash: u64, s: Box<str>) -> Sym {
        // Symbols are u32; a file would need four billion distinct strings to run out.
        let index = self.strings.len().min(u32::MAX as usize - 1);
        self.table.insert_unique(
            hash,
            Entry {
                key,
                index: index as u32,
            },
            |e| match self.strings.get(e.index as usize) {
                Some(s) => e.key.hash(s.as_bytes()),
                None => 0,
            },
        );
        self.strings.push(s);
        Sym::from_index(index)
    }

    /// Returns the symbol for `s` if it has been interned.
    pub fn get(&self, mut s: &str) -> Option<Sym> {
        if s.len() > MAX_STRING_BYTES {
            s = cut_str(s);
        }
        let key = Key::of(s.as_bytes());
        self.find(key, key.hash(s.as_bytes()), s.as_bytes())
    }

    /// How many strings were cut to [`MAX_STRING_BYTES`] since the last call; resets the count.
    pub fn take_cut(&mut self) -> u64 {
        std::mem::take(&mut self.cut)
    }

    /// The string behind `sym`; empty if `sym` came from another interner.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym.index()).map_or("", |s| s)
    }

    /// Forgets every string, keeping the table's room for reuse.
    pub fn clear(&mut self) {
        self.table.clear();
        self.strings.clear();
        self.cut = 0;
    }

    /// The strings in symbol order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(|s| &**s)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when nothing has been interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Adds every string of `other` and returns, for each of `other`'s symbols (by index),
    /// the symbol it has here.
    pub fn absorb(&mut self, other: &Interner) -> Vec<Sym> {
        let mut map = SymMap::default();
        self.absorb_new(other, &mut map);
        map.0
    }

    /// [`Interner::absorb`] for an interner that has only grown since `map` was made from it:
    /// adds the strings `map` does not cover yet and extends it.
    pub fn absorb_new(&mut self, other: &Interner, map: &mut SymMap) {
        self.cut += other.cut;
        let new = other.strings.get(map.0.len()..).unwrap_or_default();
        map.0.extend(new.iter().map(|s| self.intern(s)));
    }

    /// Bytes held by the strings and the table.
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() + 16).sum::<usize>()
            + self.table.capacity() * (std::mem::size_of::<Entry>() + 1)
    }
}

/// Maps the symbols of one interner to those of another (built by [`Interner::absorb`]).
#[derive(Debug, Default)]
pub struct SymMap(pub Vec<Sym>);

impl SymMap {
    /// The symbol in the target interner.
    #[inline]
    pub fn map(&self, sym: Sym) -> Sym {
        self.0.get(sym.index()).copied().unwrap_or(sym)
    }

    /// Maps an optional symbol.
    #[inline]
    pub fn map_opt(&self, sym: Option<Sym>) -> Option<Sym> {
        sym.map(|s| self.map(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_is_stable_and_absorb_remaps() {
        let mut a = Interner::default();
        let x = a.intern("x");
        assert_eq!(a.intern("x"), x);
        let mut b = Interner::default();
        let y = b.intern("y");
        let x2 = b.intern("x");
        let map = SymMap(a.absorb(&b));
        assert_eq!(map.map(x2), x);
        assert_eq!(a.resolve(map.map(y)), "y");
    }

    #[test]
    fn absorbing_in_steps_equals_absorbing_at_once() {
        let mut grown = Interner::default();
        let mut stepwise = Interner::default();
        let mut map = SymMap::default();
        for word in ["b", "a", "c", "a-rather-longer-string", "d"] {
            grown.intern(word);
            stepwise.absorb_new(&grown, &mut map);
        }
        let mut at_once = Interner::default();
        assert_eq!(map.0, at_once.absorb(&grown));
        assert!(stepwise.iter().eq(at_once.iter()));
    }

    #[test]
    fn strings_of_every_length_stay_apart() {
        let mut interner = Interner::default();
        let words: Vec<String> = (0..40)
            .flat_map(|n| {
                [
                    "a".repeat(n),
                    format!("{}b", "a".repeat(n)),
                    format!("b{}", "a".repeat(n)),
                    format!("{}c{}", "a".repeat(n / 2), "a".repeat(n - n / 2)),
                ]
            })
            .collect();
        // Every length around the inline keys' edges (4, 8, 16 bytes), changed at either end or
        // in the middle.
        let syms: Vec<Sym> = words.iter().map(|w| interner.intern(w)).collect();
        for (w, &sym) in words.iter().zip(&syms) {
            assert_eq!(interner.resolve(sym), w);
            assert_eq!(interner.intern_bytes(w.as_bytes()), Some(sym));
            assert_eq!(interner.get(w), Some(sym));
        }
        assert_eq!(
            interner.len(),
            words.iter().collect::<std::collections::HashSet<_>>().len()
        );
        assert_eq!(interner.intern_bytes(b"\xff\xfe"), None);
    }

    #[test]
    fn long_strings_are_cut_at_a_character() {
        let mut interner = Interner::default();
        // 'é' is two bytes: the limit falls inside one.
        let long = format!("a{}", "é".repeat(MAX_STRING_BYTES));
        let sym = interner.intern(&long);
        let kept = interner.resolve(sym);
        assert_eq!(kept.len(), MAX_STRING_BYTES - 1);
        assert!(long.starts_with(kept));
        assert_eq!(interner.intern_bytes(long.as_bytes()), Some(sym));
        assert_eq!(interner.get(&long), Some(sym));
        assert_eq!(interner.take_cut(), 2);
        assert_eq!(interner.take_cut(), 0);
    }
}
