//! Trace and span ids, normalised as Zipkin does (left-padded lower hex) with a fallback for opaque ids.

use std::fmt;

use base64::Engine as _;

use super::intern::{Interner, Sym};

/// A normalised trace id: 64- or 128-bit hex, or an opaque string some Jaeger data uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum TraceId {
    /// A 16-hex-char id (also a 32-char id whose high half is zero).
    Hex64(u64),
    /// A 32-hex-char id.
    Hex128 {
        /// The high 64 bits.
        high: u64,
        /// The low 64 bits.
        low: u64,
    },
    /// A non-hex id kept as it was written.
    Opaque(Sym),
}

/// A normalised span id: 16-hex-char, or opaque.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum SpanId {
    /// Up to 16 hex chars, left-padded.
    Hex(u64),
    /// A non-hex id kept as it was written.
    Opaque(Sym),
}

/// Why an id was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum IdError {
    /// No characters.
    #[error("empty id")]
    Empty,
    /// Longer than the id can be.
    #[error("id too long")]
    TooLong,
    /// A character that is not hex.
    #[error("id is not hex")]
    NotHex,
    /// All zeros, which Zipkin treats as invalid.
    #[error("id is all zeros")]
    AllZeros,
}

/// How strict id parsing is about characters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdRules {
    /// Hex only (either case); anything else is an error. Zipkin.
    Hex,
    /// Hex where possible, else kept as an opaque string. Jaeger UI JSON.
    HexOrOpaque,
}

/// Hex digit values; 0xff marks a byte that is not a hex digit.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

fn hex_value(s: &[u8]) -> Result<u64, IdError> {
    let mut v: u64 = 0;
    let mut bad = false;
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        match eight_hex(u64::from_be_bytes(word)) {
            Some(x) => v = (v << 32) | x,
            None => bad = true,
        }
    }
    let mut low_bad = 0u8;
    for &b in chunks.remainder() {
        let d = HEX[b as usize];
        low_bad |= d;
        v = (v << 4) | u64::from(d & 0x0f);
    }
    if bad || low_bad == 0xff {
        Err(IdError::NotHex)
    } else {
        Ok(v)
    }
}

/// The value of eight ASCII hex digits read big-endian from a word, `None` if any is not one.
#[inline]
fn eight_hex(w: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes below 0x80 only; then letters folded to lower case (digits keep their value).
    if w & HIGH != 0 {
        return None;
    }
    let lower = w | (ONES * 0x20);
    // Per byte: is it in '0'..='9' or 'a'..='f'? (x + (0x80 - lo)) sets the high bit iff x >= lo.
    let ge = |x: u64, lo: u8| x.wrapping_add(ONES * u64::from(0x80 - lo)) & HIGH;
    let digit = ge(w, b'0') & !ge(w, b'9' + 1);
    let letter = ge(lower, b'a') & !ge(lower, b'f' + 1);
    if (digit | letter) != HIGH {
        return None;
    }
    // Digit values: low nibble; letters: low nibble + 9.
    let nibbles = (w & (ONES * 0x0f)) + ((letter >> 7) * 9);
    // Pack eight nibbles (one per byte, most significant first) into 32 bits.
    let x = (nibbles | (nibbles >> 4)) & 0x00FF_00FF_00FF_00FF;
    let x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    Some((x | (x >> 16)) & 0xFFFF_FFFF)
}

impl TraceId {
    /// Parses a hex trace id with Zipkin's `normalizeTraceId` rules: 1–32 hex chars, not all zeros;
    /// ids up to 16 chars are 64-bit, 17–32 chars 128-bit, a 32-char id with a zero high half 64-bit.
    pub fn parse_hex(s: &str) -> Result<Self, IdError> {
        Self::parse_hex_bytes(s.as_bytes())
    }

    /// [`TraceId::parse_hex`] on bytes.
    pub fn parse_hex_bytes(s: &[u8]) -> Result<Self, IdError> {
        let len = s.len();
        if len == 0 {
            return Err(IdError::Empty);
        }
        if len > 32 {
            return Err(IdError::TooLong);
        }
        if len <= 16 {
            let v = hex_value(s)?;
            if v == 0 {
                return Err(IdError::AllZeros);
            }
            return Ok(Self::Hex64(v));
        }
        let (hi, lo) = s.split_at(len - 16);
        let high = hex_value(hi)?;
        let low = hex_value(lo)?;
        if high == 0 && low == 0 {
            return Err(IdError::AllZeros);
        }
        if len == 32 && high == 0 {
            return Ok(Self::Hex64(low));
        }
        Ok(Self::Hex128 { high, low })
    }

    /// Parses with the given rules, interning opaque ids.
    pub fn parse(s: &str, rules: IdRules, interner: &mut Interner) -> Result<Self, IdError> {
        match (Self::parse_hex(s), rules) {
            (Ok(id), _) => Ok(id),
            (Err(IdError::NotHex | IdError::TooLong), IdRules::HexOrOpaque) => {
                Ok(Self::Opaque(interner.intern(s)))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// From raw bytes (8 or 16, big-endian), as in base64 ids.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        match bytes.len() {
            8 => {
                let low = u64::from_be_bytes(to_array(bytes));
                if low == 0 {
                    return Err(IdError::AllZeros);
                }
                Ok(Self::Hex64(low))
            }
            16 => {
                let (h, l) = bytes.split_at(8);
                let (high, low) = (
                    u64::from_be_bytes(to_array(h)),
                    u64::from_be_bytes(to_array(l)),
                );
                match (high, low) {
                    (0, 0) => Err(IdError::AllZeros),
                    (0, low) => Ok(Self::Hex64(low)),
                    (high, low) => Ok(Self::Hex128 { high, low }),
                }
            }
            0 => Err(IdError::Empty),
            _ => Err(IdError::TooLong),
        }
    }

    /// The low 64 bits, for hex ids.
    pub fn low(self) -> Option<u64> {
        match self {
            Self::Hex64(low) | Self::Hex128 { low, .. } => Some(low),
            Self::Opaque(_) => None,
        }
    }

    /// Writes the id as Zipkin prints it.
    pub fn display(self, interner: &Interner) -> String {
        match self {
            Self::Hex64(v) => format!("{v:016x}"),
            Self::Hex128 { high, low } => format!("{high:016x}{low:016x}"),
            Self::Opaque(s) => interner.resolve(s).to_owned(),
        }
    }
}

impl SpanId {
    /// Parses a hex span id: 1–16 hex chars, left-padded. All zeros is an error.
    pub fn parse_hex(s: &str) -> Result<Self, IdError> {
        Self::parse_hex_bytes(s.as_bytes())
    }

    /// [`SpanId::parse_hex`] on bytes.
    pub fn parse_hex_bytes(s: &[u8]) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.len() > 16 {
            return Err(IdError::TooLong);
        }
        match hex_value(s)? {
            0 => Err(IdError::AllZeros),
            v => Ok(Self::Hex(v)),
        }
    }

    /// Parses with the given rules, interning opaque ids.
    pub fn parse(s: &str, rules: IdRules, interner: &mut Interner) -> Result<Self, IdError> {
        match (Self::parse_hex(s), rules) {
            (Ok(id), _) => Ok(id),
            (Err(IdError::NotHex | IdError::TooLong), IdRules::HexOrOpaque) => {
                Ok(Self::Opaque(interner.intern(s)))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// From 8 raw bytes (big-endian), as in base64 ids.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        if bytes.len() != 8 {
            return Err(if bytes.is_empty() {
                IdError::Empty
            } else {
                IdError::TooLong
            });
        }
        match u64::from_be_bytes(to_array(bytes)) {
            0 => Err(IdError::AllZeros),
            v => Ok(Self::Hex(v)),
        }
    }

    /// Writes the id as Zipkin prints it.
    pub fn display(self, interner: &Interner) -> String {
        match self {
            Self::Hex(v) => format!("{v:016x}"),
            Self::Opaque(s) => interner.resolve(s).to_owned(),
        }
    }
}

fn to_array(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// Decodes standard base64 (with or without padding).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()
}

/// True when `s` looks like base64 of 8 or 16 bytes rather than hex (by length and alphabet).
pub fn looks_base64(s: &str) -> bool {
    matches!(s.len(), 12 | 24 | 11 | 22)
        && s.bytes().any(|b| !b.is_ascii_hexdigit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

impl fmt::Display for IdRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hex => "hex",
            Self::HexOrOpaque => "hex or opaque",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_hex_agrees_with_the_table() {
        fn naive(s: &[u8]) -> Result<u64, IdError> {
            s.iter().try_fold(0u64, |v, &b| match HEX[b as usize] {
                0xff => Err(IdError::NotHex),
                d => Ok((v << 4) | u64::from(d)),
            })
        }
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 17) as usize;
            let mut s = Vec::with_capacity(len);
            let mut y = x;
            for _ in 0..len {
                y = y.rotate_left(11) ^ 0x9e37_79b9;
                // Mostly hex digits of both cases, now and then any byte.
                let pick = (y >> 8) as u8;
                let hex = b"0123456789abcdefABCDEF";
                s.push(if pick < 240 {
                    hex[usize::from(pick) % hex.len()]
                } else {
                    y as u8
                });
            }
            assert_eq!(hex_value(&s), naive(&s), "{s:?}");
        }
        for b in 0..=255u8 {
            let s = [b'0', b'1', b'2', b'3', b'4', b'5', b'6', b];
            assert_eq!(hex_value(&s), naive(&s), "{b}");
        }
    }

    #[test]
    fn trace_ids_follow_zipkin_normalisation() {
        assert_eq!(TraceId::parse_hex("1"), Ok(TraceId::Hex64(1)));
        assert_eq!(
            TraceId::parse_hex("00000000000000000000000000000abc"),
            Ok(TraceId::Hex64(0xabc))
        );
        // 17–31 chars are padded to 32 and stay 128-bit.
        assert_eq!(
            TraceId::parse_hex("1000000000000000a"),
            Ok(TraceId::Hex128 { high: 1, low: 0xa })
        );
        assert_eq!(TraceId::parse_hex("000"), Err(IdError::AllZeros));
        assert_eq!(TraceId::parse_hex("BADID"), Err(IdError::NotHex));
        assert_eq!(TraceId::parse_hex(&"f".repeat(33)), Err(IdError::TooLong));
    }

    #[test]
    fn span_ids_pad_and_reject() {
        assert_eq!(SpanId::parse_hex("2"), Ok(SpanId::Hex(2)));
        assert_eq!(
            SpanId::parse_hex("0000000000000000"),
            Err(IdError::AllZeros)
        );
        let mut i = Interner::default();
        let id = SpanId::parse("span-2_1", IdRules::HexOrOpaque, &mut i).unwrap();
        assert_eq!(id.display(&i), "span-2_1");
        assert_eq!(SpanId::Hex(0x368).display(&i), "0000000000000368");
    }

    #[test]
    fn base64_ids_decode() {
        assert!(looks_base64("AAAAAAAAAAB74v2Y0Jc74w=="));
        assert!(!looks_base64("0000000000000368"));
        let bytes = decode_base64("AAAAAAAAAAB74v2Y0Jc74w==").unwrap();
        assert_eq!(
            TraceId::from_bytes(&bytes),
            Ok(TraceId::Hex64(0x7be2_fd98_d097_3be3))
        );
    }
}
