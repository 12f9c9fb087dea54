//! Small serde helpers shared by the parsers: borrowed strings, lenient numbers, scalars written as strings.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A string borrowed from the input when it has no escapes.
pub type Str<'a> = Cow<'a, str>;

/// An integer written as a JSON number (integer or float) or as a decimal string, as OTLP allows.
/// Anything else deserializes to `Num(None)` instead of failing the record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Num(pub Option<i64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a decimal string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(i64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num((v.is_finite() && v.abs() < 9.2e18).then_some(v as i64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                let v = v.trim();
                Ok(Num(v.parse::<i64>().ok().or_else(|| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                        .map(|f| f as i64)
                })))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Num, E> {
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON scalar kept as text: strings as they are, numbers and booleans as JSON writes them.
/// Objects and arrays are kept as `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scalar<'a>(pub Option<Str<'a>>, pub ScalarType);

/// What JSON type a [`Scalar`] was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScalarType {
    /// A string.
    #[default]
    String,
    /// A boolean.
    Bool,
    /// A number.
    Number,
    /// Null.
    Other,
    /// An object or an array.
    Nested,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Borrowed(v)), ScalarType::String))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_owned())), ScalarType::String))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v)), ScalarType::String))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar(
                    Some(Cow::Borrowed(if v { "true" } else { "false" })),
                    ScalarType::Bool,
                ))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string())), ScalarType::Number))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string())), ScalarType::Number))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string())), ScalarType::Number))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar(None, ScalarType::Other))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Scalar(None, ScalarType::Nested))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar(None, ScalarType::Nested))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object read as a list of key/value pairs in input order (no map allocation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairs<'a>(pub Vec<(Str<'a>, Scalar<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<CowStr<'de>, Scalar<'de>>()? {
                    out.push((k.0, v));
                }
                Ok(Pairs(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `Cow<str>` that borrows whenever the input allows (serde's plain `Cow` always copies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CowStr<'a>(pub Str<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses an RFC 3339 timestamp (`2019-12-20T07:41:44.953864Z`, offsets allowed) to epoch microseconds.
pub fn rfc3339_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut digits = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if digits < 6 {
                micros = micros * 10 + i64::from(c - b'0');
                digits += 1;
            }
            i += 1;
        }
        for _ in digits..6 {
            micros *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') | None => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            let v = h * 3600 + m * 60;
            if sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let days = crate::model::time::days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_and_times() {
        let n: Vec<Num> = serde_json::from_str(r#"[1, "2", 3.0, null, "x"]"#).unwrap();
        assert_eq!(
            n,
            vec![
                Num(Some(1)),
                Num(Some(2)),
                Num(Some(3)),
                Num(None),
                Num(None)
            ]
        );
        assert_eq!(rfc3339_micros("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(
            rfc3339_micros("2019-12-20T07:41:44.953864Z"),
            Some(1_576_827_704_953_864)
        );
        assert_eq!(
            rfc3339_micros("2019-12-20T08:41:44.953864+01:00"),
            Some(1_576_827_704_953_864)
        );
        assert_eq!(rfc3339_micros("yesterday"), None);
    }

    #[test]
    fn scalars_and_pairs_borrow() {
        let json = r#"{"a":"x","b":true,"c":1.5,"d":{"e":1}}"#;
        let p: Pairs<'_> = serde_json::from_str(json).unwrap();
        assert!(matches!(p.0[0].1.0, Some(Cow::Borrowed("x"))));
        assert_eq!(p.0[1].1.0.as_deref(), Some("true"));
        assert_eq!(p.0[2].1.0.as_deref(), Some("1.5"));
        assert_eq!(p.0[3].1.0, None);
    }
}

/// Text as read: bytes borrowed from the input not yet checked as UTF-8 (the fast path; checked
/// when first interned), or a string serde produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text<'a> {
    /// Raw bytes of a JSON string without escapes.
    Raw(&'a [u8]),
    /// A string (borrowed, or owned when it had escapes or was a number).
    Str(Str<'a>),
}

impl Default for Text<'_> {
    fn default() -> Self {
        Self::Raw(&[])
    }
}

impl<'a> Text<'a> {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Raw(b) => b,
            Self::Str(s) => s.as_bytes(),
        }
    }

    /// As a string, `None` when the bytes are not UTF-8.
    pub fn to_str(&self) -> Option<Str<'_>> {
        match self {
            Self::Raw(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Self::Str(s) => Some(Cow::Borrowed(s.as_ref())),
        }
    }

    /// For messages: invalid UTF-8 replaced.
    pub fn lossy(&self) -> Str<'_> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CowStr::deserialize(d).map(|s| Text::Str(s.0))
    }
}

/// A JSON object of string-ish values, as (key, value) pairs in input order. Numbers and booleans
/// become their JSON text; null becomes `None`; objects and arrays are left out and counted (`.1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextPairs<'a>(pub Vec<(Text<'a>, Option<Text<'a>>)>, pub u32);

impl<'de: 'a, 'a> Deserialize<'de> for TextPairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Pairs::deserialize(d)?;
        let nested = pairs
            .0
            .iter()
            .filter(|(_, v)| v.1 == ScalarType::Nested)
            .count() as u32;
        Ok(TextPairs(
            pairs
                .0
                .into_iter()
                .filter(|(_, v)| v.1 != ScalarType::Nested)
                .map(|(k, v)| (Text::Str(k), v.0.map(Text::Str)))
                .collect(),
            nested,
        ))
    }
}
