//! String interning: every service name, tag key and value is stored once and referred to by a [`Sym`].

use std::num::NonZeroU32;

use std::hash::{Hash, Hasher};

use indexmap::{Equivalent, IndexSet};
use rustc_hash::FxBuildHasher;

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

/// A stored string, hashed by its bytes so raw bytes can be looked up without UTF-8 checks.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key(Box<str>);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0.as_bytes());
    }
}

/// Bytes to look up.
struct Bytes<'a>(&'a [u8]);

impl Hash for Bytes<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0);
    }
}

impl Equivalent<Key> for Bytes<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0 == key.0.as_bytes()
    }
}

/// A set of strings, each with a stable [`Sym`] in insertion order.
#[derive(Default, Clone, Debug)]
pub struct Interner {
    strings: IndexSet<Key, FxBuildHasher>,
}

impl Interner {
    /// Returns the symbol for `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(index) = self.strings.get_index_of(&Bytes(s.as_bytes())) {
            return Sym::from_index(index);
        }
        let (index, _) = self.strings.insert_full(Key(s.into()));
        Sym::from_index(index)
    }

    /// Interns raw bytes: a string already present is found without checking UTF-8 again.
    /// `None` when the bytes are new and not valid UTF-8.
    pub fn intern_bytes(&mut self, b: &[u8]) -> Option<Sym> {
        if let Some(index) = self.strings.get_index_of(&Bytes(b)) {
            return Some(Sym::from_index(index));
        }
        let s = std::str::from_utf8(b).ok()?;
        let (index, _) = self.strings.insert_full(Key(s.into()));
        Some(Sym::from_index(index))
    }

    /// Returns the symbol for `s` if it has been interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.strings
            .get_index_of(&Bytes(s.as_bytes()))
            .map(Sym::from_index)
    }

    /// The string behind `sym`; empty if `sym` came from another interner.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get_index(sym.index()).map_or("", |s| &s.0)
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
        other.strings.iter().map(|s| self.intern(&s.0)).collect()
    }

    /// Bytes held by the strings (not counting the table).
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.0.len() + 16).sum::<usize>() + self.strings.capacity() * 16
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
}
