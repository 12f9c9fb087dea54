//! A small JSON cursor for the common shape of hot records: it reads what it understands and gives
//! up (returns `None`) on anything unusual, so the caller falls back to serde for exact behaviour.

use std::borrow::Cow;

use super::json::{CowStr, Num, Scalar, ScalarType, Text};
use super::split::value_end;

/// A position in one record.
pub struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    /// A cursor at position `i` of `b`.
    pub fn at(b: &'a [u8], i: usize) -> Self {
        Self { b, i }
    }

    /// The current position.
    pub fn position(&self) -> usize {
        self.i
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.i += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// Consumes `c` (after whitespace) or fails.
    #[inline]
    pub fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string without escapes, borrowed. Strings with escapes or control characters give up.
    #[inline]
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw()?).ok()
    }

    /// The bytes of a string without escapes, not checked as UTF-8 (the interner checks new
    /// strings). Strings with escapes or control characters give up.
    #[inline]
    pub fn raw(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let rest = self.b.get(self.i..)?;
        // One pass: find the closing quote, stop at escapes and control characters.
        let mut n = 0;
        loop {
            match *rest.get(n)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => n += 1,
            }
        }
        let s = rest.get(..n)?;
        self.i += n + 1;
        Some(s)
    }

    /// An integer (no fraction or exponent).
    #[inline]
    pub fn int(&mut self) -> Option<i64> {
        self.ws();
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            self.i += 1;
        }
        if self.i == start || matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(if neg { -v } else { v })
    }

    /// A literal `true`/`false`.
    #[inline]
    pub fn bool(&mut self) -> Option<bool> {
        self.ws();
        let rest = self.b.get(self.i..)?;
        if rest.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// Consumes `null` if it is next.
    #[inline]
    pub fn null(&mut self) -> bool {
        self.ws();
        if self.b.get(self.i..).is_some_and(|r| r.starts_with(b"null")) {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// Skips any value.
    pub fn skip(&mut self) -> Option<()> {
        self.ws();
        let end = value_end(self.b, self.i)?;
        (end > self.i).then(|| self.i = end)
    }

    /// Walks an object: calls `f(cursor, key)` with each member's key bytes; `f` must consume the value.
    pub fn object(&mut self, mut f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.raw()?;
            self.eat(b':')?;
            f(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Walks an array: calls `f(cursor)` for each element; `f` must consume it.
    pub fn array(&mut self, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            f(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// True when only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// An optional string (`null` → `None`).
    pub fn opt_str(&mut self) -> Option<Option<CowStr<'a>>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(CowStr(Cow::Borrowed(self.str()?))))
    }

    /// An optional string as raw [`Text`] (`null` → `None`).
    pub fn opt_text(&mut self) -> Option<Option<Text<'a>>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(Text::Raw(self.raw()?)))
    }

    /// A scalar as raw [`Text`]: strings as bytes, booleans as `true`/`false`, `null` as `None`.
    /// Numbers and anything else give up.
    pub fn text_scalar(&mut self) -> Option<Option<Text<'a>>> {
        match self.peek()? {
            b'"' => Some(Some(Text::Raw(self.raw()?))),
            b't' | b'f' => Some(Some(Text::Raw(if self.bool()? {
                b"true"
            } else {
                b"false"
            }))),
            b'n' => {
                self.null().then_some(())?;
                Some(None)
            }
            _ => None,
        }
    }

    /// A number or decimal string as [`Num`]; `null` → `None`.
    pub fn opt_num(&mut self) -> Option<Option<Num>> {
        match self.peek()? {
            b'n' => {
                self.null().then_some(())?;
                Some(None)
            }
            b'"' => {
                let s = self.str()?;
                Some(Some(Num(s.trim().parse::<i64>().ok())))
            }
            _ => Some(Some(Num(Some(self.int()?)))),
        }
    }

    /// A scalar as text (strings, integers and booleans; anything else gives up).
    pub fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => Some(Scalar(Some(Cow::Borrowed(self.str()?)), ScalarType::String)),
            b't' | b'f' => {
                let v = self.bool()?;
                Some(Scalar(
                    Some(Cow::Borrowed(if v { "true" } else { "false" })),
                    ScalarType::Bool,
                ))
            }
            b'n' => {
                self.null().then_some(())?;
                Some(Scalar(None, ScalarType::Other))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_and_gives_up_on_escapes() {
        let mut c = Cursor::new(br#" {"a": "x", "b": -12, "c": [true, null], "d": {"e": 1.5}} "#);
        let mut seen = Vec::new();
        c.object(|c, k| {
            seen.push(k);
            match k {
                b"a" => c.str().map(drop),
                b"b" => (c.int()? == -12).then_some(()),
                _ => c.skip(),
            }
        })
        .unwrap();
        assert!(c.at_end());
        assert_eq!(seen, vec![&b"a"[..], b"b", b"c", b"d"]);
        assert!(Cursor::new(br#""a\"b""#).str().is_none());
        assert!(Cursor::new(b"1.5").int().is_none());
    }
}
