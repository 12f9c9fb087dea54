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

    #[inline]
    fn from_index(index: usize) -> Self {
        // The interner never holds more than u32::MAX - 1 strings (see `Interner::intern`).
        Self(NonZeroU32::MIN.saturating_add(index as u32))
    }
}

/// The hash of a string's bytes.
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.finish()
}

/// Byte equality without a library call for the short strings that dominate trace data.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        if let Some(chunk) = s.get(at..at + 8) {
            w.copy_from_slice(chunk);
        }
        u64::from_le_bytes(w)
    };
    if (8..=16).contains(&n) {
        // Two overlapping words cover every byte.
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else {
        a == b
    }
}

/// A set of strings, each with a stable [`Sym`] in insertion order.
#[derive(Default, Clone, Debug)]
pub struct Interner {
    /// Symbol indices, hashed by their string's bytes.
    table: HashTable<u32>,
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
        let hash = hash_bytes(s.as_bytes());
        match self.find(hash, s.as_bytes()) {
            Some(sym) => sym,
            None => self.insert(hash, s.into()),
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
        let hash = hash_bytes(b);
        if let Some(sym) = self.find(hash, b) {
            return Some(sym);
        }
        let s = std::str::from_utf8(b).ok()?;
        Some(self.insert(hash, s.into()))
    }

    #[inline]
    fn find(&self, hash: u64, b: &[u8]) -> Option<Sym> {
        let strings = &self.strings;
        self.table
            .find(hash, |&i| {
                strings
                    .get(i as usize)
                    .is_some_and(|s| same_bytes(s.as_bytes(), b))
            })
            .map(|&i| Sym::from_index(i as usize))
    }

    fn insert(&mut self, hash: u64, s: Box<str>) -> Sym {
        // Symbols are u32; a file would need four billion distinct strings to run out.
        let index = self.strings.len().min(u32::MAX as usize - 1);
        self.strings.push(s);
        let strings = &self.strings;
        self.table.insert_unique(hash, index as u32, |&i| {
            strings
                .get(i as usize)
                .map_or(0, |s| hash_bytes(s.as_bytes()))
        });
        Sym::from_index(index)
    }

    /// Returns the symbol for `s` if it has been interned.
    pub fn get(&self, mut s: &str) -> Option<Sym> {
        if s.len() > MAX_STRING_BYTES {
            s = cut_str(s);
        }
        self.find(hash_bytes(s.as_bytes()), s.as_bytes())
    }

    /// How many strings were cut to [`MAX_STRING_BYTES`] since the last call; resets the count.
    pub fn take_cut(&mut self) -> u64 {
        std::mem::take(&mut self.cut)
    }

    /// The string behind `sym`; empty if `sym` came from another interner.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym.index()).map_or("", |s| s)
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
        self.cut += other.cut;
        other.strings.iter().map(|s| self.intern(s)).collect()
    }

    /// Bytes held by the strings and the table.
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() + 16).sum::<usize>() + self.table.capacity() * 5
    }
}

/// Maps the symbols of one interner to those of another (built by [`Interner::absorb`]).
#[derive(Debug)]
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
    fn strings_of_every_length_stay_apart() {
        let mut interner = Interner::default();
        let words: Vec<String> = (0..40)
            .flat_map(|n| {
                [
                    "a".repeat(n),
                    format!("{}b", "a".repeat(n)),
                    format!("b{}", "a".repeat(n)),
                ]
            })
            .collect();
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
