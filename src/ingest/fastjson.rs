//! A small JSON cursor for the common shape of hot records: it reads what it understands and gives
//! up (returns `None`) on anything unusual, so the caller falls back to serde for exact behaviour.

use super::json::{Num, Text};
use super::split::value_end;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Marks (in the byte's high bit) the bytes of `w` that end a plain string run: `"`, `\\` and
/// control characters. Only the lowest mark is exact, which is the one the caller uses.
#[inline]
fn string_stops(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(quote) | zero(slash) | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}

/// The length of the string body at the start of `rest` (up to its closing quote), eight bytes
/// at a time. `None` at an escape, a control character or the end of `rest`.
#[inline]
fn string_end(rest: &[u8]) -> Option<usize> {
    let mut n = 0;
    while let Some(chunk) = rest.get(n..n + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let stops = string_stops(u64::from_le_bytes(word));
        if stops != 0 {
            n += (stops.trailing_zeros() / 8) as usize;
            return (rest.get(n) == Some(&b'"')).then_some(n);
        }
        n += 8;
    }
    loop {
        match *rest.get(n)? {
            b'"' => return Some(n),
            b'\\' | 0..=0x1f => return None,
            _ => n += 1,
        }
    }
}

/// The value of eight ASCII digits read little-endian from a word, `None` if any byte is not one.
#[inline]
fn eight_digits(w: u64) -> Option<u64> {
    // Every byte 0x30..=0x39: high nibble 3, and adding 6 does not carry out of the low nibble.
    if (w & 0xF0F0_F0F0_F0F0_F0F0) != 0x3030_3030_3030_3030
        || (w.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) != 0x3030_3030_3030_3030
    {
        return None;
    }
    // Pairs, then quads, then all eight (the first digit is the lowest byte).
    let d = w - 0x3030_3030_3030_3030;
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF)
}

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

    /// The bytes from `start` to the current position.
    pub fn slice_from(&self, start: usize) -> Option<&'a [u8]> {
        self.b.get(start..self.i)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            // Every whitespace byte is at most b' '; most bytes seen here are above it.
            if c > b' ' || !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
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
        let n = string_end(rest)?;
        let s = rest.get(..n)?;
        self.i += n + 1;
        Some(s)
    }

    /// An integer (no fraction or exponent) of at most 18 digits; longer ones give up.
    #[inline]
    pub fn int(&mut self) -> Option<i64> {
        self.ws();
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let rest = self.b.get(self.i..)?;
        let mut v: u64 = 0;
        let mut n = 0;
        // Eight digits at a time while they last, then one at a time.
        while let Some(chunk) = rest.get(n..n + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let Some(eight) = eight_digits(u64::from_le_bytes(word)) else {
                break;
            };
            v = v.wrapping_mul(100_000_000).wrapping_add(eight);
            n += 8;
            if n > 16 {
                return None;
            }
        }
        while let Some(&c) = rest.get(n) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            n += 1;
        }
        if n == 0 || n > 18 || matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i += n;
        let v = v as i64;
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

    /// The bytes from the next non-whitespace byte on.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        self.ws();
        self.b.get(self.i..).unwrap_or_default()
    }

    /// Reads a member's key and its colon. `known` is a key the caller recognised at
    /// [`Cursor::rest`] (the length of its quoted text and colon, and what it names), taken
    /// without scanning for its end; without one, the key is read in full and named by `name`.
    #[inline]
    pub fn key<T>(
        &mut self,
        known: Option<(usize, T)>,
        name: impl FnOnce(&'a [u8]) -> T,
    ) -> Option<T> {
        if let Some((n, named)) = known {
            self.i += n;
            return Some(named);
        }
        let key = self.raw()?;
        self.eat(b':')?;
        Some(name(key))
    }

    /// Reads an optional string into `out` as raw [`Text`] (`null` → `None`). Strings with escapes
    /// give up. (Written in place: returning a [`Text`] through memory costs more than reading it.)
    #[inline]
    pub fn text_into(&mut self, out: &mut Option<Text<'a>>) -> Option<()> {
        // A value mostly follows its colon directly.
        if self.b.get(self.i) != Some(&b'"') && self.null() {
            *out = None;
            return Some(());
        }
        *out = Some(Text::Raw(self.raw()?));
        Some(())
    }

    /// Opens an object: `true` when a member follows, `false` when it was `{}` (consumed).
    #[inline]
    pub fn object_open(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(false);
        }
        Some(true)
    }

    /// After a member's value: `true` past a comma (another member follows), `false` past the
    /// object's closing brace.
    #[inline]
    pub fn object_next(&mut self) -> Option<bool> {
        let more = match self.peek()? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.i += 1;
        Some(more)
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

    #[test]
    fn integers_of_every_length() {
        for text in [
            "0",
            "7",
            "-42",
            "12345678",
            "123456789",
            "1700000000001009",
            "999999999999999999",
        ] {
            let mut c = Cursor::new(text.as_bytes());
            assert_eq!(c.int(), text.parse::<i64>().ok(), "{text}");
            assert!(c.at_end());
        }
        for text in ["1234567890123456789", "12e3", "1.0", "-", ""] {
            assert_eq!(Cursor::new(text.as_bytes()).int(), None, "{text}");
        }
        let mut c = Cursor::new(b"12345678901,");
        assert_eq!(c.int(), Some(12_345_678_901));
        assert_eq!(c.peek(), Some(b','));
    }

    #[test]
    fn word_scan_agrees_with_byte_scan() {
        fn naive(rest: &[u8]) -> Option<usize> {
            for (n, &c) in rest.iter().enumerate() {
                match c {
                    b'"' => return Some(n),
                    b'\\' | 0..=0x1f => return None,
                    _ => {}
                }
            }
            None
        }
        let alphabet = [
            b'a', b'"', b'\\', 0x01, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 0x00, b'Z',
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let mut s = Vec::with_capacity(len);
            let mut y = x;
            for _ in 0..len {
                y = y.rotate_left(7) ^ 0x9e37_79b9;
                // Mostly plain letters, so stops land at every offset.
                let pick = (y % 64) as usize;
                s.push(alphabet.get(pick).copied().unwrap_or(b'm'));
            }
            assert_eq!(string_end(&s), naive(&s), "{s:?}");
        }
    }
}
