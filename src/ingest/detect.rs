//! Sniffs a file's format from its content (never its name), as FORMATS.md §6 and Zipkin's detector do.

use memchr::memmem;

use super::Format;

/// How many bytes from the start are looked at.
const SNIFF_BYTES: usize = 1 << 20;

/// Why content is not a trace file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    /// The file is empty or whitespace.
    #[error("the file is empty")]
    Empty,
    /// The first byte cannot start JSON.
    #[error("not JSON (it starts with {0:?})")]
    NotJson(String),
    /// JSON, but none of the known trace formats.
    #[error(
        "JSON, but not a trace format flowscope knows (Zipkin, Jaeger, OTLP, Spigo, dependency links)"
    )]
    UnknownFormat,
}

fn has(hay: &[u8], needle: &str) -> bool {
    memmem::find(hay, needle.as_bytes()).is_some()
}

/// Guesses the format of `bytes`.
pub fn sniff(bytes: &[u8]) -> Result<Format, SniffError> {
    let start = super::split::skip_ws(bytes, 0);
    let Some(&first) = bytes.get(start) else {
        return Err(SniffError::Empty);
    };
    if first != b'{' && first != b'[' {
        if super::otlp::looks_like_proto(bytes) {
            return Ok(Format::OtlpProto);
        }
        let shown: String = String::from_utf8_lossy(
            bytes
                .get(start..start + 12)
                .unwrap_or(bytes.get(start..).unwrap_or(&[])),
        )
        .chars()
        .take_while(|c| !c.is_control())
        .collect();
        return Err(SniffError::NotJson(shown));
    }
    let head = bytes.get(..SNIFF_BYTES).unwrap_or(bytes);
    // An empty array is an empty list of spans (a simulation of zero traces, an idle collector).
    if first == b'[' && bytes.get(super::split::skip_ws(bytes, start + 1)) == Some(&b']') {
        return Ok(Format::ZipkinV2);
    }
    let otlp = has(head, "\"resourceSpans\"")
        || has(head, "\"batches\"")
        || has(head, "\"scopeSpans\"")
        || has(head, "\"instrumentationLibrarySpans\"");
    if otlp {
        // Jaeger's API v3 wraps each chunk of OTLP in `{"result": …}`.
        let key = super::split::skip_ws(bytes, start + 1);
        let wrapped = first == b'{'
            && bytes
                .get(key..)
                .is_some_and(|b| b.starts_with(b"\"result\""));
        return Ok(if wrapped {
            Format::JaegerApiV3
        } else {
            Format::Otlp
        });
    }
    if has(head, "\"span_id\"")
        || has(head, "\"trace_id\"")
        || has(head, "\"spanId\"") && has(head, "\"batch\"")
    {
        return Ok(Format::JaegerProto);
    }
    // Zipkin names a span's id `id`; Jaeger's model names it `spanId` and has operations.
    if has(head, "\"spanId\"")
        && has(head, "\"traceId\"")
        && (has(head, "\"operationName\"") || has(head, "\"startTime\""))
    {
        return Ok(Format::JaegerModelJson);
    }
    if has(head, "\"traceID\"") && has(head, "\"startTimeMillis\"") {
        return Ok(Format::JaegerEs);
    }
    if has(head, "\"traceID\"") || has(head, "\"spanID\"") {
        return Ok(Format::JaegerUi);
    }
    if has(head, "\"graph\"")
        && (has(head, "\"node\"") || has(head, "\"edge\"") || has(head, "spigo-"))
    {
        return Ok(Format::SpigoGraph);
    }
    if has(head, "\"services\"") && has(head, "\"package\"") {
        return Ok(Format::SpigoArch);
    }
    if has(head, "\"ctx\"") && has(head, "\"imposition\"") {
        return Ok(Format::SpigoMigration);
    }
    if has(head, "\"parent\"") && has(head, "\"child\"") && has(head, "\"callCount\"") {
        return Ok(Format::DependencyLinks);
    }
    if has(head, "\"traceId\"") {
        // Zipkin's SpanBytesDecoderDetector: v2 when the payload names an endpoint or tags.
        if has(head, "Endpoint\"") || has(head, "\"tags\"") {
            return Ok(Format::ZipkinV2);
        }
        return Ok(Format::ZipkinV1);
    }
    Err(SniffError::UnknownFormat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaegers_model_json_is_told_from_zipkin_by_its_span_ids() {
        assert_eq!(
            sniff(br#"{"spans":[{"traceId":"AQ==","spanId":"AQ==","operationName":"a"}]}"#),
            Ok(Format::JaegerModelJson)
        );
        assert_eq!(
            sniff(br#"[{"traceId":"1","id":"2","name":"a","localEndpoint":{}}]"#),
            Ok(Format::ZipkinV2)
        );
    }

    #[test]
    fn jaegers_elasticsearch_documents_carry_start_time_millis() {
        assert_eq!(
            sniff(br#"{"traceID":"1","spanID":"2","startTimeMillis":1,"tag":{}}"#),
            Ok(Format::JaegerEs)
        );
        assert_eq!(
            sniff(br#"{"data":[{"traceID":"1","spans":[]}]}"#),
            Ok(Format::JaegerUi)
        );
    }

    #[test]
    fn jaeger_api_v3_is_otlp_under_result() {
        assert_eq!(
            sniff(br#" {"result":{"resourceSpans":[]}}"#),
            Ok(Format::JaegerApiV3)
        );
        assert_eq!(
            sniff(br#"{"resourceSpans":[],"result":1}"#),
            Ok(Format::Otlp)
        );
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            sniff(br#"[{"traceId":"1","id":"2","localEndpoint":{}}]"#),
            Ok(Format::ZipkinV2)
        );
        assert_eq!(
            sniff(br#"[{"traceId":"1","id":"2","annotations":[]}]"#),
            Ok(Format::ZipkinV1)
        );
        assert_eq!(
            sniff(br#"{"data":[{"traceID":"1"}]}"#),
            Ok(Format::JaegerUi)
        );
        assert_eq!(sniff(br#"{"resourceSpans":[]}"#), Ok(Format::Otlp));
        assert_eq!(
            sniff(br#"[{"parent":"a","child":"b","callCount":1}]"#),
            Ok(Format::DependencyLinks)
        );
        assert_eq!(sniff(b"  \n"), Err(SniffError::Empty));
        assert_eq!(sniff(b"[\n]\n"), Ok(Format::ZipkinV2));
        assert_eq!(
            sniff(b"hello world"),
            Err(SniffError::NotJson("hello world".to_owned()))
        );
        assert_eq!(sniff(br#"{"a":1}"#), Err(SniffError::UnknownFormat));
    }
}
