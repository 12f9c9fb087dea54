#!/usr/bin/env python3
"""Writes an OTLP/JSON file as the OpenTelemetry Collector's file exporter does with `format: proto`.

Each request is encoded by the official protobuf classes (PyPI `opentelemetry-proto`, with
`google.protobuf.json_format`), not by flowscope, and framed as the exporter frames it
(exporter/fileexporter/file_writer.go, exportMessageAsBuffer): a 4-byte big-endian length, then
the message. With --zstd-each every message is compressed on its own before it is framed, as the
exporter's `compression: zstd` does (needs PyPI `zstandard`).

    pip install --target /tmp/pyotel opentelemetry-proto zstandard
    PYTHONPATH=/tmp/pyotel scripts/otlp-to-proto.py IN.json OUT.pb [--zstd-each]

OTLP/JSON writes ids as hex and Tempo's `batches` for `resourceSpans`; protobuf's JSON mapping
wants base64 bytes and the field's own name, so both are rewritten before parsing.
"""

import base64
import json
import struct
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

HEX = set("0123456789abcdefABCDEF")


def id_to_base64(text):
    if text and len(text) in (16, 32) and set(text) <= HEX:
        return base64.b64encode(bytes.fromhex(text)).decode()
    return text


def fix(value, key=None):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "batches":
                k = "resourceSpans"
            out[k] = fix(v, k)
        return out
    if isinstance(value, list):
        return [fix(v, key) for v in value]
    if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
        return id_to_base64(value)
    return value


def requests(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    for doc in docs:
        yield from doc if isinstance(doc, list) else [doc]


def main(args):
    zstd_each = "--zstd-each" in args
    paths = [a for a in args if not a.startswith("--")]
    source, target = paths
    compress = None
    if zstd_each:
        import zstandard

        compress = zstandard.ZstdCompressor().compress
    with open(target, "wb") as out:
        for request in requests(source):
            message = json_format.Parse(
                json.dumps(fix(request)), ExportTraceServiceRequest(), ignore_unknown_fields=True
            ).SerializeToString()
            if compress:
                message = compress(message)
            out.write(struct.pack(">I", len(message)))
            out.write(message)


if __name__ == "__main__":
    main(sys.argv[1:])
