//! Protocol Buffers' wire format read in place: the fields of one message, in order, without a schema or a copy.
//!
//! A message is a run of fields, each a varint key (`number << 3 | wire type`) and a value: a
//! varint (type 0), eight bytes (1), a length-prefixed run of bytes (2: strings, bytes, embedded
//! messages, packed lists) or four bytes (5). Groups (3, 4) are long deprecated and not read.
//! Readers match the field numbers they know and skip the rest, as protobuf requires.

/// One field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// Wire type 0 (int32, int64, uint64, bool, enum).
    Varint(u64),
    /// Wire type 1 (fixed64, sfixed64, double).
    Fixed64(u64),
    /// Wire type 2 (string, bytes, an embedded message).
    Bytes(&'a [u8]),
    /// Wire type 5 (fixed32, sfixed32, float).
    Fixed32(u32),
}

impl<'a> Value<'a> {
    /// The bytes of a length-delimited field.
    pub(crate) fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Self::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A varint or fixed-width field as an unsigned number.
    pub(crate) fn number(self) -> Option<u64> {
        match self {
            Self::Varint(n) | Self::Fixed64(n) => Some(n),
            Self::Fixed32(n) => Some(u64::from(n)),
            Self::Bytes(_) => None,
        }
    }
}

/// The fields of one message; after the loop, [`Fields::error`] says whether it ended early.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
    error: Option<String>,
}

impl<'a> Fields<'a> {
    /// The fields of `buf`, one whole message.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            at: 0,
            error: None,
        }
    }

    /// Why the message could not be read to its end (`None`: it was).
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let &byte = self.buf.get(self.at)?;
            self.at += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let bytes = self.buf.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    fn fail(&mut self, at: usize, what: &str) -> Option<(u32, Value<'a>)> {
        self.error = Some(format!(
            "{what} at byte {at} of a {}-byte message",
            self.buf.len()
        ));
        self.at = self.buf.len();
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let start = self.at;
        let Some(key) = self.varint() else {
            return self.fail(start, "a field key that does not end");
        };
        let number = u32::try_from(key >> 3).unwrap_or(0);
        if number == 0 {
            return self.fail(start, "field number 0");
        }
        let value = match key & 7 {
            0 => self.varint().map(Value::Varint),
            1 => self
                .take(8)
                .and_then(|b| b.try_into().ok())
                .map(|b| Value::Fixed64(u64::from_le_bytes(b))),
            2 => match self.varint().and_then(|n| usize::try_from(n).ok()) {
                Some(n) => self.take(n).map(Value::Bytes),
                None => None,
            },
            5 => self
                .take(4)
                .and_then(|b| b.try_into().ok())
                .map(|b| Value::Fixed32(u32::from_le_bytes(b))),
            t => return self.fail(start, &format!("wire type {t} (field {number})")),
        };
        match value {
            Some(v) => Some((number, v)),
            None => self.fail(start, &format!("field {number} runs past the end")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type_and_stops_on_damage() {
        // 1: varint 150; 2: "hi"; 3: fixed64 1; 4: fixed32 2; 5: varint u64::MAX.
        let mut msg = vec![0x08, 0x96, 0x01, 0x12, 2, b'h', b'i', 0x19];
        msg.extend_from_slice(&1u64.to_le_bytes());
        msg.push(0x25);
        msg.extend_from_slice(&2u32.to_le_bytes());
        msg.extend_from_slice(&[
            0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        let mut fields = Fields::new(&msg);
        let got: Vec<_> = (&mut fields).collect();
        assert_eq!(
            got,
            [
                (1, Value::Varint(150)),
                (2, Value::Bytes(b"hi")),
                (3, Value::Fixed64(1)),
                (4, Value::Fixed32(2)),
                (5, Value::Varint(u64::MAX)),
            ]
        );
        assert_eq!(fields.error(), None);

        // A string that claims more bytes than there are.
        let mut fields = Fields::new(&[0x08, 0x01, 0x12, 9, b'x']);
        assert_eq!(fields.by_ref().count(), 1);
        assert_eq!(
            fields.error(),
            Some("field 2 runs past the end at byte 2 of a 5-byte message")
        );
        // A group, and a varint longer than ten bytes.
        let mut fields = Fields::new(&[0x0b]);
        assert_eq!(fields.by_ref().count(), 0);
        assert!(fields.error().is_some_and(|e| e.contains("wire type 3")));
        let mut fields = Fields::new(&[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ]);
        assert_eq!(fields.by_ref().count(), 0);
        assert!(fields.error().is_some());
    }
}
