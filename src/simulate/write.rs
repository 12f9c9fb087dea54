//! Writers for the simulator's output: Spigo's `-j` graph file and flows as Zipkin v1 (Spigo's
//! own layout) or Zipkin v2. Everything streams through a `BufWriter`.

use std::io::{self, Write};

use super::time::rfc3339_nanos;
use super::traffic::{SimSpan, Value};

/// A JSON string literal (quoted and escaped).
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Writes Spigo's graph file (`-j`, `spigo-0.4`): a hand-written header, then one element per
/// line joined by `,\n`, then `\n  ]\n}\n`.
pub struct GraphWriter<W: Write> {
    out: W,
    first: bool,
    next_edge: u64,
}

impl<W: Write> GraphWriter<W> {
    /// Writes the header: `arch`, `version`, `args` (a bracketed string, not an array) and `date`.
    pub fn new(mut out: W, arch: &str, args: &str, date_nanos: i64) -> io::Result<Self> {
        write!(
            out,
            "{{\n  \"arch\":{},\n  \"version\":\"spigo-0.4\",\n  \"args\":{},\n  \"date\":\"{}\",\n  \"graph\":[\n",
            json_string(arch),
            json_string(args),
            rfc3339_nanos(date_nanos)
        )?;
        Ok(Self {
            out,
            first: true,
            next_edge: 1,
        })
    }

    fn element(&mut self) -> io::Result<&mut W> {
        if self.first {
            self.first = false;
            self.out.write_all(b"    ")?;
        } else {
            self.out.write_all(b",\n    ")?;
        }
        Ok(&mut self.out)
    }

    /// A `node` record; `name` and `package` are JSON string literals.
    pub fn node(&mut self, name: &str, package: &str, nanos: i64, ip: &str) -> io::Result<()> {
        let out = self.element()?;
        write!(
            out,
            "{{\"node\":{name},\"package\":{package},\"timestamp\":\"{}\",\"metadata\":\"IP/{ip}\"}}",
            rfc3339_nanos(nanos)
        )
    }

    /// An `edge` record, numbered `e1`, `e2`, … in order; names are JSON string literals.
    pub fn edge(&mut self, source: &str, target: &str, nanos: i64) -> io::Result<()> {
        let id = self.next_edge;
        self.next_edge += 1;
        let out = self.element()?;
        write!(
            out,
            "{{\"edge\":\"e{id}\",\"source\":{source},\"target\":{target},\"timestamp\":\"{}\"}}",
            rfc3339_nanos(nanos)
        )
    }

    /// A `done` record (exit is always `normal`); `name` is a JSON string literal.
    pub fn done(&mut self, name: &str, nanos: i64) -> io::Result<()> {
        let out = self.element()?;
        write!(
            out,
            "{{\"done\":{name},\"exit\":\"normal\",\"timestamp\":\"{}\"}}",
            rfc3339_nanos(nanos)
        )
    }

    /// Closes the array and the object, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n  ]\n}\n")?;
        Ok(self.out)
    }
}

/// The flow formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FlowFormat {
    /// Zipkin v1 exactly as Spigo writes it (9-field names, zero-padded decimal ids, cs/sr/ss/cr).
    #[default]
    ZipkinV1,
    /// Zipkin v2: a CLIENT span and a shared SERVER span per hop.
    ZipkinV2,
}

/// Writes flows as a JSON array: `[`, spans joined by `,\n`, `]`.
pub struct FlowWriter<W: Write> {
    out: W,
    format: FlowFormat,
    first: bool,
    /// JSON objects of each instance's endpoint (`{"serviceName":…,"ipv4":…,"port":8080}`).
    endpoints: Vec<String>,
}

impl<W: Write> FlowWriter<W> {
    /// Starts the array; `endpoints` holds each instance's endpoint object.
    pub fn new(mut out: W, format: FlowFormat, endpoints: Vec<String>) -> io::Result<Self> {
        out.write_all(b"[\n")?;
        Ok(Self {
            out,
            format,
            first: true,
            endpoints,
        })
    }

    fn separator(&mut self) -> io::Result<()> {
        if self.first {
            self.first = false;
            Ok(())
        } else {
            self.out.write_all(b",\n")
        }
    }

    /// Writes one span (two in Zipkin v2 when both sides are present); returns how many.
    pub fn span(&mut self, span: &SimSpan) -> io::Result<u64> {
        match self.format {
            FlowFormat::ZipkinV1 => self.span_v1(span).map(|()| 1),
            FlowFormat::ZipkinV2 => self.span_v2(span),
        }
    }

    fn span_v1(&mut self, span: &SimSpan) -> io::Result<()> {
        self.separator()?;
        write!(
            self.out,
            "{{\"traceId\":\"{:016}\",\"name\":\"{}\",\"id\":\"{:016}\"",
            span.trace,
            span.message.as_str(),
            span.id
        )?;
        if span.parent != 0 {
            write!(self.out, ",\"parentId\":\"{:016}\"", span.parent)?;
        }
        self.out.write_all(b",\"annotations\":[")?;
        for (k, note) in span.notes().iter().enumerate() {
            if k > 0 {
                self.out.write_all(b",")?;
            }
            let endpoint = self
                .endpoints
                .get(note.instance)
                .map_or("{}", String::as_str);
            write!(
                self.out,
                "{{\"endpoint\":{endpoint},\"timestamp\":{},\"value\":\"{}\"}}",
                note.micros,
                note.value.as_str()
            )?;
        }
        self.out.write_all(b"]}")
    }

    fn span_v2(&mut self, span: &SimSpan) -> io::Result<u64> {
        let find = |v: Value| span.notes().iter().find(|n| n.value == v).copied();
        let (cs, sr, ss, cr) = (
            find(Value::Cs),
            find(Value::Sr),
            find(Value::Ss),
            find(Value::Cr),
        );
        let head = |out: &mut W, kind: &str| -> io::Result<()> {
            write!(out, "{{\"traceId\":\"{:016}\"", span.trace)?;
            if span.parent != 0 {
                write!(out, ",\"parentId\":\"{:016}\"", span.parent)?;
            }
            write!(
                out,
                ",\"id\":\"{:016}\",\"kind\":\"{kind}\",\"name\":\"{}\"",
                span.id,
                span.message.as_lower_str()
            )
        };
        let mut written = 0;
        if let Some(cs) = cs {
            self.separator()?;
            head(&mut self.out, "CLIENT")?;
            write!(self.out, ",\"timestamp\":{}", cs.micros)?;
            if let Some(cr) = cr {
                write!(self.out, ",\"duration\":{}", (cr.micros - cs.micros).max(1))?;
            }
            let local = self.endpoints.get(cs.instance).map_or("{}", String::as_str);
            write!(self.out, ",\"localEndpoint\":{local}")?;
            if let Some(sr) = sr {
                let remote = self.endpoints.get(sr.instance).map_or("{}", String::as_str);
                write!(self.out, ",\"remoteEndpoint\":{remote}")?;
            }
            self.out.write_all(b"}")?;
            written += 1;
        }
        if let Some(sr) = sr {
            self.separator()?;
            head(&mut self.out, "SERVER")?;
            write!(self.out, ",\"timestamp\":{}", sr.micros)?;
            if let Some(ss) = ss {
                write!(self.out, ",\"duration\":{}", (ss.micros - sr.micros).max(1))?;
            }
            let local = self.endpoints.get(sr.instance).map_or("{}", String::as_str);
            write!(self.out, ",\"localEndpoint\":{local}")?;
            if cs.is_some() {
                self.out.write_all(b",\"shared\":true")?;
            }
            self.out.write_all(b"}")?;
            written += 1;
        }
        Ok(written)
    }

    /// Closes the array and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.first {
            self.out.write_all(b"]\n")?;
        } else {
            self.out.write_all(b"\n]\n")?;
        }
        Ok(self.out)
    }
}
