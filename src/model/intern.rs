//! String interning: every service name, tag key and value is stored once and referred to by a [`Sym`].

use std::num::NonZeroU32;

use indexmap::IndexSet;
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

/// A set of strings, each with a stable [`Sym`] in insertion order.
#[derive(Default, Clone, Debug)]
pub struct Interner {
    strings: IndexSet<Box<str>, FxBuildHasher>,
}

impl Interner {
    /// Returns the symbol for `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(index) = self.strings.get_index_of(s) {
            return Sym::from_index(index);
        }
        let (index, _) = self.strings.insert_full(s.into());
        Sym::from_index(index)
    }

    /// Returns the symbol for `s` if it has been interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.strings.get_index_of(s).map(Sym::from_index)
    }

    /// The string behind `sym`; empty if `sym` came from another interner.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get_index(sym.index()).map_or("", |s| s)
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
        other.strings.iter().map(|s| self.intern(s)).collect()
    }

    /// Bytes held by the strings (not counting the table).
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() + 16).sum::<usize>() + self.strings.capacity() * 16
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
