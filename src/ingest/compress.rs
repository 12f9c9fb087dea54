//! Compressed input: gzip and zstd, told apart by their magic bytes (never by the file name), decoded as the file is read.
//!
//! A compressed file goes through the same streaming path as a plain one: the decoder is the
//! reader the streaming thread pulls blocks from, so decompression runs on that thread while
//! the workers parse. A stream that is cut short or corrupt ends where it breaks: what came
//! before still loads, and the fault is a counted warning ([`Damage`]).

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use parking_lot::Mutex;

/// How a file is compressed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Compression {
    /// gzip (RFC 1952), one member or several concatenated.
    Gzip,
    /// Zstandard (RFC 8878), one frame or several.
    Zstd,
}

impl Compression {
    /// The compression whose magic bytes `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::Zstd),
            _ => None,
        }
    }

    /// The name `stats` appends to the layout (`zipkin-v2+gzip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }

    /// A reader of the decompressed bytes of `input` (read from its start). Decoding errors end
    /// the stream and are kept in `damage`.
    pub fn decoder<R: Read + Send + 'static>(
        self,
        input: R,
        damage: &Damage,
    ) -> std::io::Result<Box<dyn Read + Send>> {
        let input = std::io::BufReader::with_capacity(1 << 20, input);
        let decoded: Box<dyn Read + Send> = match self {
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        };
        Ok(Box::new(Guarded {
            inner: decoded,
            damage: damage.clone(),
            decoded: 0,
            compression: self,
        }))
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a compressed stream broke, if it did: one line for the report.
#[derive(Clone, Debug, Default)]
pub struct Damage(Arc<Mutex<Option<String>>>);

impl Damage {
    /// The fault, once.
    pub fn take(&self) -> Option<String> {
        self.0.lock().take()
    }
}

/// A reader that counts the bytes read through it (how far into a compressed file a read is).
pub struct Counted<R> {
    inner: R,
    count: Arc<std::sync::atomic::AtomicU64>,
}

impl<R> Counted<R> {
    /// Counts what is read from `inner` into `count`.
    pub fn new(inner: R, count: Arc<std::sync::atomic::AtomicU64>) -> Self {
        Self { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A decoder whose errors end the stream (kept in [`Damage`]) instead of failing the read.
struct Guarded {
    inner: Box<dyn Read + Send>,
    damage: Damage,
    /// Bytes decoded so far.
    decoded: u64,
    compression: Compression,
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.decoded += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let mut damage = self.damage.0.lock();
                if damage.is_none() {
                    *damage = Some(format!(
                        "the {} stream breaks after {} decompressed bytes ({e}); what came before is read",
                        self.compression, self.decoded
                    ));
                }
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn decode(bytes: Vec<u8>) -> (Vec<u8>, Option<String>) {
        let compression = Compression::sniff(&bytes).unwrap();
        let damage = Damage::default();
        let mut out = Vec::new();
        compression
            .decoder(std::io::Cursor::new(bytes), &damage)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        (out, damage.take())
    }

    #[test]
    fn magic_bytes_name_the_compression_and_plain_json_has_none() {
        assert_eq!(Compression::sniff(&gzip(b"[]")), Some(Compression::Gzip));
        let zst = zstd::encode_all(&b"[]"[..], 1).unwrap();
        assert_eq!(Compression::sniff(&zst), Some(Compression::Zstd));
        assert_eq!(Compression::sniff(b"[{\"traceId\":1}]"), None);
        assert_eq!(Compression::sniff(b""), None);
    }

    #[test]
    fn concatenated_members_and_frames_decode_whole() {
        let mut two = gzip(b"[1,");
        two.extend(gzip(b"2]"));
        assert_eq!(decode(two), (b"[1,2]".to_vec(), None));
        let mut frames = zstd::encode_all(&b"{\"a\":1}\n"[..], 3).unwrap();
        frames.extend(zstd::encode_all(&b"{\"a\":2}\n"[..], 3).unwrap());
        assert_eq!(decode(frames), (b"{\"a\":1}\n{\"a\":2}\n".to_vec(), None));
    }

    #[test]
    fn a_cut_stream_keeps_what_came_before_and_says_where_it_broke() {
        let data: Vec<u8> = (0..200_000u32).flat_map(u32::to_le_bytes).collect();
        let mut cut = zstd::encode_all(&data[..], 1).unwrap();
        cut.truncate(cut.len() / 2);
        let (out, damage) = decode(cut);
        assert!(!out.is_empty() && out.len() < data.len());
        assert_eq!(out[..], data[..out.len()]);
        let damage = damage.unwrap();
        assert!(
            damage.starts_with("the zstd stream breaks after "),
            "{damage}"
        );
    }
}
