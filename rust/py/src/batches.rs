//! The tables as pyarrow `RecordBatch`es (`analyze` without `columns`): one Arrow array per
//! column, no Python object per field.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, UInt16Builder,
    UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use tlsinspect_core::engine::{CertSeen, MessageRecord};
use tlsinspect_core::flow::{EventRecord, FlowRecord};

pub(crate) fn arrow_err(e: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(format!("arrow: {e}"))
}

fn str_list<'a>(b: &mut ListBuilder<StringBuilder>, items: impl IntoIterator<Item = &'a str>) {
    for s in items {
        b.values().append_value(s);
    }
    b.append(true);
}

pub(crate) fn flows_batch(flows: &[FlowRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = flows.len();
    let mut capture_col = StringBuilder::with_capacity(n, n * capture.len());
    let mut flow_id = UInt64Builder::with_capacity(n);
    let mut ts_start = Float64Builder::with_capacity(n);
    let mut ts_end = Float64Builder::with_capacity(n);
    let mut first_frame = UInt64Builder::with_capacity(n);
    let mut last_frame = UInt64Builder::with_capacity(n);
    let mut client_ip = StringBuilder::new();
    let mut client_port = UInt16Builder::with_capacity(n);
    let mut server_ip = StringBuilder::new();
    let mut server_port = UInt16Builder::with_capacity(n);
    let mut ip_version = UInt8Builder::with_capacity(n);
    let mut tls_version = StringBuilder::new();
    let mut client_max_version = StringBuilder::new();
    let mut cipher = StringBuilder::new();
    let mut cipher_id = UInt32Builder::with_capacity(n);
    let mut sni = StringBuilder::new();
    let mut alpn = StringBuilder::new();
    let mut server_chain = ListBuilder::new(StringBuilder::new());
    let mut client_chain = ListBuilder::new(StringBuilder::new());
    let mut requested = BooleanBuilder::with_capacity(n);
    let mut ca_names = ListBuilder::new(StringBuilder::new());
    let mut alerts = ListBuilder::new(StringBuilder::new());
    let mut outcome = StringBuilder::new();
    let mut outcome_detail = StringBuilder::new();
    let mut certs_visible = BooleanBuilder::with_capacity(n);
    let mut decrypted = BooleanBuilder::with_capacity(n);
    let mut resumed = BooleanBuilder::with_capacity(n);
    let mut dh_bits = UInt32Builder::with_capacity(n);
    let mut kx_group = StringBuilder::new();
    let mut history = StringBuilder::new();
    let mut ja3 = StringBuilder::new();
    let mut ja3s = StringBuilder::new();
    let mut ja4 = StringBuilder::new();
    let mut starttls = StringBuilder::new();
    let mut packets = UInt64Builder::with_capacity(n);
    let mut warnings = ListBuilder::new(StringBuilder::new());
    let mut transport = StringBuilder::new();
    let mut protocol = StringBuilder::new();
    let mut encapsulation = StringBuilder::new();
    let mut quic_version = StringBuilder::new();
    let mut srtp_profile = StringBuilder::new();
    for f in flows {
        capture_col.append_value(capture);
        flow_id.append_value(f.flow_id);
        ts_start.append_value(f.ts_start);
        ts_end.append_value(f.ts_end);
        first_frame.append_value(f.first_frame);
        last_frame.append_value(f.last_frame);
        client_ip.append_value(&f.client_ip);
        client_port.append_value(f.client_port);
        server_ip.append_value(&f.server_ip);
        server_port.append_value(f.server_port);
        ip_version.append_value(f.ip_version);
        tls_version.append_option(f.tls_version.as_deref());
        client_max_version.append_option(f.client_max_version.as_deref());
        cipher.append_option(f.cipher.as_deref());
        cipher_id.append_option(f.cipher_id);
        sni.append_option(f.sni.as_deref());
        alpn.append_option(f.alpn.as_deref());
        str_list(&mut server_chain, f.server_chain_sha256.iter().map(String::as_str));
        str_list(&mut client_chain, f.client_chain_sha256.iter().map(String::as_str));
        requested.append_value(f.client_cert_requested);
        str_list(&mut ca_names, f.requested_ca_names.iter().map(String::as_str));
        str_list(&mut alerts, f.alerts.iter().map(String::as_str));
        outcome.append_value(&f.outcome);
        outcome_detail.append_option(f.outcome_detail.as_deref());
        certs_visible.append_value(f.certs_visible);
        decrypted.append_value(f.decrypted);
        resumed.append_value(f.resumed);
        dh_bits.append_option(f.dh_bits);
        kx_group.append_option(f.kx_group.as_deref());
        history.append_value(&f.history);
        ja3.append_option(f.ja3.as_deref());
        ja3s.append_option(f.ja3s.as_deref());
        ja4.append_option(f.ja4.as_deref());
        starttls.append_option(f.starttls.as_deref());
        packets.append_value(f.packets);
        str_list(&mut warnings, f.warnings.iter().map(String::as_str));
        transport.append_value(&f.transport);
        protocol.append_value(&f.protocol);
        encapsulation.append_option(f.encapsulation.as_deref());
        quic_version.append_option(f.quic_version.as_deref());
        srtp_profile.append_option(f.srtp_profile.as_deref());
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("capture", Arc::new(capture_col.finish())),
        ("flow_id", Arc::new(flow_id.finish())),
        ("ts_start", Arc::new(ts_start.finish())),
        ("ts_end", Arc::new(ts_end.finish())),
        ("first_frame", Arc::new(first_frame.finish())),
        ("last_frame", Arc::new(last_frame.finish())),
        ("client_ip", Arc::new(client_ip.finish())),
        ("client_port", Arc::new(client_port.finish())),
        ("server_ip", Arc::new(server_ip.finish())),
        ("server_port", Arc::new(server_port.finish())),
        ("ip_version", Arc::new(ip_version.finish())),
        ("tls_version", Arc::new(tls_version.finish())),
        ("client_max_version", Arc::new(client_max_version.finish())),
        ("cipher", Arc::new(cipher.finish())),
        ("cipher_id", Arc::new(cipher_id.finish())),
        ("sni", Arc::new(sni.finish())),
        ("alpn", Arc::new(alpn.finish())),
        ("server_chain_sha256", Arc::new(server_chain.finish())),
        ("client_chain_sha256", Arc::new(client_chain.finish())),
        ("client_cert_requested", Arc::new(requested.finish())),
        ("requested_ca_names", Arc::new(ca_names.finish())),
        ("alerts", Arc::new(alerts.finish())),
        ("outcome", Arc::new(outcome.finish())),
        ("outcome_detail", Arc::new(outcome_detail.finish())),
        ("certs_visible", Arc::new(certs_visible.finish())),
        ("decrypted", Arc::new(decrypted.finish())),
        ("resumed", Arc::new(resumed.finish())),
        ("dh_bits", Arc::new(dh_bits.finish())),
        ("kx_group", Arc::new(kx_group.finish())),
        ("history", Arc::new(history.finish())),
        ("ja3", Arc::new(ja3.finish())),
        ("ja3s", Arc::new(ja3s.finish())),
        ("ja4", Arc::new(ja4.finish())),
        ("starttls", Arc::new(starttls.finish())),
        ("packets", Arc::new(packets.finish())),
        ("warnings", Arc::new(warnings.finish())),
        ("transport", Arc::new(transport.finish())),
        ("protocol", Arc::new(protocol.finish())),
        ("encapsulation", Arc::new(encapsulation.finish())),
        ("quic_version", Arc::new(quic_version.finish())),
        ("srtp_profile", Arc::new(srtp_profile.finish())),
    ];
    RecordBatch::try_from_iter(cols)
}

pub(crate) fn events_batch(events: &[EventRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = events.len();
    let mut capture_col = StringBuilder::with_capacity(n, n * capture.len());
    let mut flow_id = UInt64Builder::with_capacity(n);
    let mut frame = UInt64Builder::with_capacity(n);
    let mut ts = Float64Builder::with_capacity(n);
    let mut kind = StringBuilder::new();
    let mut sender = StringBuilder::new();
    let mut code = StringBuilder::new();
    let mut detail = StringBuilder::new();
    for e in events {
        capture_col.append_value(capture);
        flow_id.append_option(e.flow_id);
        frame.append_option(e.frame);
        ts.append_option(e.ts);
        kind.append_value(e.kind);
        sender.append_option(e.sender);
        code.append_value(&e.code);
        detail.append_value(&e.detail);
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("capture", Arc::new(capture_col.finish())),
        ("flow_id", Arc::new(flow_id.finish())),
        ("frame", Arc::new(frame.finish())),
        ("ts", Arc::new(ts.finish())),
        ("kind", Arc::new(kind.finish())),
        ("sender", Arc::new(sender.finish())),
        ("code", Arc::new(code.finish())),
        ("detail", Arc::new(detail.finish())),
    ];
    RecordBatch::try_from_iter(cols)
}

pub(crate) fn messages_batch(messages: &[MessageRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = messages.len();
    let mut capture_col = StringBuilder::with_capacity(n, n * capture.len());
    let mut flow_id = UInt64Builder::with_capacity(n);
    let mut frame = UInt64Builder::with_capacity(n);
    let mut ts = Float64Builder::with_capacity(n);
    let mut sender = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut name = StringBuilder::new();
    for m in messages {
        capture_col.append_value(capture);
        flow_id.append_value(m.flow_id);
        frame.append_value(m.frame);
        ts.append_value(m.ts);
        sender.append_value(m.sender);
        kind.append_value(m.kind);
        name.append_value(&m.name);
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("capture", Arc::new(capture_col.finish())),
        ("flow_id", Arc::new(flow_id.finish())),
        ("frame", Arc::new(frame.finish())),
        ("ts", Arc::new(ts.finish())),
        ("sender", Arc::new(sender.finish())),
        ("kind", Arc::new(kind.finish())),
        ("name", Arc::new(name.finish())),
    ];
    RecordBatch::try_from_iter(cols)
}

pub(crate) fn certs_batch(certs: &[CertSeen]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let mut sha256 = StringBuilder::new();
    let mut der = BinaryBuilder::new();
    let mut flow_ids = ListBuilder::new(UInt64Builder::new());
    let mut roles = ListBuilder::new(StringBuilder::new());
    for c in certs {
        sha256.append_value(&c.sha256);
        der.append_value(&c.der);
        for &id in &c.flow_ids {
            flow_ids.values().append_value(id);
        }
        flow_ids.append(true);
        str_list(&mut roles, c.roles.iter().copied());
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("sha256", Arc::new(sha256.finish())),
        ("der", Arc::new(der.finish())),
        ("flow_ids", Arc::new(flow_ids.finish())),
        ("roles", Arc::new(roles.finish())),
    ];
    RecordBatch::try_from_iter(cols)
}
