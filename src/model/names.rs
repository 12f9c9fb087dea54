//! [`Resolve`]: looking a symbol's string up, in the [`Interner`] itself or in a [`NameTable`],
//! a copy of the few strings a graph names that can travel to another thread.

use rustc_hash::FxHashMap;

use super::{Interner, Sym};

/// Turns symbols back into their strings.
pub trait Resolve: Send + Sync {
    /// The string of `sym` (`""` for a symbol it does not hold).
    fn resolve(&self, sym: Sym) -> &str;
    /// The symbol of `s`, if it holds one.
    fn get(&self, s: &str) -> Option<Sym>;
}

impl Resolve for Interner {
    fn resolve(&self, sym: Sym) -> &str {
        Interner::resolve(self, sym)
    }

    fn get(&self, s: &str) -> Option<Sym> {
        Interner::get(self, s)
    }
}

/// The strings of some of an interner's symbols, copied out of it (a graph's node names and
/// places hold a few thousand of the interner's millions of strings).
#[derive(Clone, Debug, Default)]
pub struct NameTable {
    strings: FxHashMap<Sym, Box<str>>,
    symbols: FxHashMap<Box<str>, Sym>,
}

impl NameTable {
    /// Copies the strings of `syms` (repeats are copied once) out of `interner`.
    pub fn of(interner: &Interner, syms: impl IntoIterator<Item = Sym>) -> Self {
        let mut table = Self::default();
        for sym in syms {
            if table.strings.contains_key(&sym) {
                continue;
            }
            let s: Box<str> = interner.resolve(sym).into();
            table.symbols.insert(s.clone(), sym);
            table.strings.insert(sym, s);
        }
        table
    }

    /// How many strings it holds.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

impl Resolve for NameTable {
    fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(&sym).map_or("", |s| s)
    }

    fn get(&self, s: &str) -> Option<Sym> {
        self.symbols.get(s).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_table_resolves_what_it_copied_and_nothing_else() {
        let mut interner = Interner::default();
        let a = interner.intern("api");
        let b = interner.intern("db");
        let c = interner.intern("cache");
        let table = NameTable::of(&interner, [a, b, a]);
        assert_eq!(table.len(), 2);
        assert_eq!(Resolve::resolve(&table, a), "api");
        assert_eq!(Resolve::resolve(&table, b), "db");
        assert_eq!(Resolve::resolve(&table, c), "");
        assert_eq!(Resolve::get(&table, "db"), Some(b));
        assert_eq!(Resolve::get(&table, "cache"), None);
        assert_eq!(Resolve::get(&interner, "cache"), Some(c));
    }
}
