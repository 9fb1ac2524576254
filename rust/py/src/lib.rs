//! The extension module `inspector._core`: a thin layer over `tlsinspect_core`.
//!
//! One call per capture (`analyze`) runs the whole engine with the GIL released and returns the
//! flows, events and distinct certificates as pyarrow `RecordBatch`es (no Python object per
//! packet or per field), plus counters. `inspector/_core.pyi` documents the interface and
//! `inspector/engines/rust.py` turns it into the `inspector.engines.python.Analysis` the Python engine
//! returns. Errors: `EngineError` becomes `inspector.errors.CaptureError` (same messages).
#![forbid(unsafe_code)]

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, UInt16Builder,
    UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_pyarrow::ToPyArrow;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use tlsinspect_core::capture::CaptureReader;
use tlsinspect_core::engine::{analyze_reader_streaming, analyze_reader_with, open_file, Analysis, CertSeen, Ended,
                              EngineError, KeylogReport,
                              MessageRecord, TableHasher};
use tlsinspect_core::ip::FragLimits;
use tlsinspect_core::flow::{EventRecord, FlowRecord, Limits};
use tlsinspect_core::tls::decrypt::parse_keylog;

/// `EngineError` -> `inspector.errors.CaptureError(reason, offset)`, the class the Python engine
/// raises, imported from Python so `except CaptureError` catches both engines.
fn to_py_err(py: Python<'_>, e: EngineError) -> PyErr {
    match e {
        EngineError::Capture { reason, offset } => {
            match py.import("inspector.errors").and_then(|m| m.getattr("CaptureError")) {
                Ok(cls) => match cls.call1((reason.clone(), offset)) {
                    Ok(exc) => PyErr::from_value(exc),
                    Err(err) => err,
                },
                Err(err) => err,
            }
        }
    }
}

fn arrow_err(e: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(format!("arrow: {e}"))
}

fn str_list<'a>(b: &mut ListBuilder<StringBuilder>, items: impl IntoIterator<Item = &'a str>) {
    for s in items {
        b.values().append_value(s);
    }
    b.append(true);
}

fn flows_batch(flows: &[FlowRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
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

fn events_batch(events: &[EventRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
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

fn messages_batch(messages: &[MessageRecord], capture: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
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

fn certs_batch(certs: &[CertSeen]) -> Result<RecordBatch, arrow_schema::ArrowError> {
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

/// Columns as Python lists, without pyarrow: a name -> list dict per table (`columns=True`).
/// The command line takes this path, so that a run does not pay for importing pyarrow (and
/// numpy), which costs more than analysing 100 MB.
struct Columns<'py> {
    py: Python<'py>,
    d: Bound<'py, PyDict>,
    /// One Python string per distinct text: versions, ciphers, outcomes, fingerprints... repeat
    /// across flows, and 20,000 flows would otherwise hold ~700,000 string objects.
    strings: std::cell::RefCell<std::collections::HashMap<String, Bound<'py, PyString>, TableHasher>>,
}

impl<'py> Columns<'py> {
    fn new(py: Python<'py>) -> Self {
        Columns { py, d: PyDict::new(py), strings: Default::default() }
    }

    fn s(&self, text: &str) -> Bound<'py, PyString> {
        let mut cache = self.strings.borrow_mut();
        if let Some(v) = cache.get(text) {
            return v.clone();
        }
        let v = PyString::new(self.py, text);
        if cache.len() < 100_000 {
            cache.insert(text.to_string(), v.clone());
        }
        v
    }

    /// A string column, each distinct text one Python object.
    fn strs<'a, I>(&self, name: &str, values: I) -> PyResult<()>
    where
        I: IntoIterator<Item = Option<&'a str>>,
        I::IntoIter: ExactSizeIterator,
    {
        let v: Vec<Option<Bound<'py, PyString>>> = values.into_iter().map(|t| t.map(|t| self.s(t))).collect();
        self.d.set_item(name, PyList::new(self.py, v)?)
    }

    /// A list-of-strings column, each distinct text one Python object.
    fn str_lists<'a, T: 'a, F, I>(&self, name: &str, rows: &'a [T], f: F) -> PyResult<()>
    where
        F: Fn(&'a T) -> I,
        I: IntoIterator<Item = &'a str>,
    {
        let out = PyList::empty(self.py);
        for r in rows {
            let items: Vec<Bound<'py, PyString>> = f(r).into_iter().map(|t| self.s(t)).collect();
            out.append(PyList::new(self.py, items)?)?;
        }
        self.d.set_item(name, out)
    }

    fn col<T, I>(&self, name: &str, values: I) -> PyResult<()>
    where
        I: IntoIterator<Item = T>,
        T: IntoPyObject<'py>,
        I::IntoIter: ExactSizeIterator,
    {
        self.d.set_item(name, PyList::new(self.py, values)?)
    }

    fn lists<'a, T, F, I>(&self, name: &str, rows: &'a [T], f: F) -> PyResult<()>
    where
        F: Fn(&'a T) -> I,
        I: IntoIterator,
        I::Item: IntoPyObject<'py>,
        I::IntoIter: ExactSizeIterator,
    {
        let out = PyList::empty(self.py);
        for r in rows {
            out.append(PyList::new(self.py, f(r))?)?;
        }
        self.d.set_item(name, out)
    }
}

fn flow_columns<'py>(py: Python<'py>, flows: &[FlowRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
    let c = Columns::new(py);
    let f = flows;
    c.strs("capture", f.iter().map(|_| Some(capture)))?;
    c.col("flow_id", f.iter().map(|x| x.flow_id))?;
    c.col("ts_start", f.iter().map(|x| x.ts_start))?;
    c.col("ts_end", f.iter().map(|x| x.ts_end))?;
    c.col("first_frame", f.iter().map(|x| x.first_frame))?;
    c.col("last_frame", f.iter().map(|x| x.last_frame))?;
    c.strs("client_ip", f.iter().map(|x| Some(x.client_ip.as_str())))?;
    c.col("client_port", f.iter().map(|x| x.client_port))?;
    c.strs("server_ip", f.iter().map(|x| Some(x.server_ip.as_str())))?;
    c.col("server_port", f.iter().map(|x| x.server_port))?;
    c.col("ip_version", f.iter().map(|x| x.ip_version))?;
    c.strs("tls_version", f.iter().map(|x| x.tls_version.as_deref()))?;
    c.strs("client_max_version", f.iter().map(|x| x.client_max_version.as_deref()))?;
    c.strs("cipher", f.iter().map(|x| x.cipher.as_deref()))?;
    c.col("cipher_id", f.iter().map(|x| x.cipher_id))?;
    c.strs("sni", f.iter().map(|x| x.sni.as_deref()))?;
    c.strs("alpn", f.iter().map(|x| x.alpn.as_deref()))?;
    c.str_lists("server_chain_sha256", f, |x| x.server_chain_sha256.iter().map(String::as_str))?;
    c.str_lists("client_chain_sha256", f, |x| x.client_chain_sha256.iter().map(String::as_str))?;
    c.col("client_cert_requested", f.iter().map(|x| x.client_cert_requested))?;
    c.str_lists("requested_ca_names", f, |x| x.requested_ca_names.iter().map(String::as_str))?;
    c.str_lists("alerts", f, |x| x.alerts.iter().map(String::as_str))?;
    c.strs("outcome", f.iter().map(|x| Some(x.outcome.as_str())))?;
    c.strs("outcome_detail", f.iter().map(|x| x.outcome_detail.as_deref()))?;
    c.col("certs_visible", f.iter().map(|x| x.certs_visible))?;
    c.col("decrypted", f.iter().map(|x| x.decrypted))?;
    c.col("resumed", f.iter().map(|x| x.resumed))?;
    c.col("dh_bits", f.iter().map(|x| x.dh_bits))?;
    c.strs("kx_group", f.iter().map(|x| x.kx_group.as_deref()))?;
    c.strs("history", f.iter().map(|x| Some(x.history.as_str())))?;
    c.strs("ja3", f.iter().map(|x| x.ja3.as_deref()))?;
    c.strs("ja3s", f.iter().map(|x| x.ja3s.as_deref()))?;
    c.strs("ja4", f.iter().map(|x| x.ja4.as_deref()))?;
    c.strs("starttls", f.iter().map(|x| x.starttls.as_deref()))?;
    c.col("packets", f.iter().map(|x| x.packets))?;
    c.str_lists("warnings", f, |x| x.warnings.iter().map(String::as_str))?;
    c.strs("transport", f.iter().map(|x| Some(x.transport.as_str())))?;
    c.strs("protocol", f.iter().map(|x| Some(x.protocol.as_str())))?;
    c.strs("encapsulation", f.iter().map(|x| x.encapsulation.as_deref()))?;
    c.strs("quic_version", f.iter().map(|x| x.quic_version.as_deref()))?;
    c.strs("srtp_profile", f.iter().map(|x| x.srtp_profile.as_deref()))?;
    Ok(c.d)
}

fn event_columns<'py>(py: Python<'py>, events: &[EventRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
    let c = Columns::new(py);
    let e = events;
    c.strs("capture", e.iter().map(|_| Some(capture)))?;
    c.col("flow_id", e.iter().map(|x| x.flow_id))?;
    c.col("frame", e.iter().map(|x| x.frame))?;
    c.col("ts", e.iter().map(|x| x.ts))?;
    c.strs("kind", e.iter().map(|x| Some(x.kind)))?;
    c.strs("sender", e.iter().map(|x| x.sender))?;
    c.strs("code", e.iter().map(|x| Some(x.code.as_str())))?;
    c.strs("detail", e.iter().map(|x| Some(x.detail.as_str())))?;
    Ok(c.d)
}

fn message_columns<'py>(py: Python<'py>, messages: &[MessageRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
    let c = Columns::new(py);
    let m = messages;
    c.strs("capture", m.iter().map(|_| Some(capture)))?;
    c.col("flow_id", m.iter().map(|x| x.flow_id))?;
    c.col("frame", m.iter().map(|x| x.frame))?;
    c.col("ts", m.iter().map(|x| x.ts))?;
    c.strs("sender", m.iter().map(|x| Some(x.sender)))?;
    c.strs("kind", m.iter().map(|x| Some(x.kind)))?;
    c.strs("name", m.iter().map(|x| Some(x.name.as_str())))?;
    Ok(c.d)
}

fn cert_columns<'py>(py: Python<'py>, certs: &[CertSeen]) -> PyResult<Bound<'py, PyDict>> {
    let c = Columns::new(py);
    c.col("sha256", certs.iter().map(|x| x.sha256.as_str()))?;
    c.col("der", certs.iter().map(|x| PyBytes::new(py, &x.der)))?;
    c.lists("flow_ids", certs, |x| x.flow_ids.iter().copied())?;
    c.str_lists("roles", certs, |x| x.roles.iter().copied())?;
    Ok(c.d)
}

/// The analysis as the dict `inspector._core.analyze` returns (see `_core.pyi`): tables as
/// pyarrow RecordBatches, or with `columns` as name -> list dicts.
fn to_dict<'py>(py: Python<'py>, a: &Analysis, capture: &str, columns: bool) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if columns {
        d.set_item("flows", flow_columns(py, &a.flows, capture)?)?;
        d.set_item("events", event_columns(py, &a.events, capture)?)?;
        d.set_item("certificates", cert_columns(py, &a.certificates)?)?;
        d.set_item("messages", message_columns(py, &a.messages, capture)?)?;
    } else {
        d.set_item("flows", flows_batch(&a.flows, capture).map_err(arrow_err)?.to_pyarrow(py)?)?;
        d.set_item("events", events_batch(&a.events, capture).map_err(arrow_err)?.to_pyarrow(py)?)?;
        d.set_item("certificates", certs_batch(&a.certificates).map_err(arrow_err)?.to_pyarrow(py)?)?;
        d.set_item("messages", messages_batch(&a.messages, capture).map_err(arrow_err)?.to_pyarrow(py)?)?;
    }
    let stats = PyDict::new(py);
    for (k, v) in a.stats.iter() {
        stats.set_item(k, v)?;
    }
    d.set_item("stats", stats)?;
    d.set_item("capture_warnings", PyList::new(py, &a.capture_warnings)?)?;
    d.set_item("first_ts", a.first_ts)?;
    d.set_item("last_ts", a.last_ts)?;
    d.set_item("format", &a.format)?;
    d.set_item("bytes_read", a.bytes_read)?;
    d.set_item("frames", a.frames)?;
    Ok(d)
}

/// One batch of a streaming analysis as `on_batch` receives it: flows, events and the certificates
/// new since the previous batch, as name -> list dicts.
fn ended_dict<'py>(py: Python<'py>, e: &Ended, capture: &str) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("flows", flow_columns(py, &e.flows, capture)?)?;
    d.set_item("events", event_columns(py, &e.events, capture)?)?;
    d.set_item("certificates", cert_columns(py, &e.certificates)?)?;
    Ok(d)
}

/// One capture through the whole engine, with the GIL released (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (path, *, data = None, fd = None, capture, ports, max_flows, max_handshake_bytes,
                    max_pending_bytes, max_certs, max_tombstones, keylog = None, stream = false,
                    columns = false, max_frag_datagrams = None, max_frag_bytes = None,
                    frag_timeout = None, keylog_source = None, keylog_entries = 0, max_buffered_bytes = None,
                    keylog_warnings = Vec::new(), threads = None, on_batch = None, batch_size = 1000))]
#[allow(clippy::too_many_arguments)]
fn analyze<'py>(py: Python<'py>, path: Option<String>, data: Option<Vec<u8>>, fd: Option<i32>,
                capture: &str, ports: Vec<u16>, max_flows: usize, max_handshake_bytes: usize,
                max_pending_bytes: usize, max_certs: usize, max_tombstones: usize,
                keylog: Option<Vec<u8>>, stream: bool, columns: bool, max_frag_datagrams: Option<usize>,
                max_frag_bytes: Option<usize>, frag_timeout: Option<f64>, keylog_source: Option<String>,
                keylog_entries: usize, max_buffered_bytes: Option<usize>,
                keylog_warnings: Vec<(String, String)>, threads: Option<usize>, on_batch: Option<Py<PyAny>>,
                batch_size: usize) -> PyResult<Bound<'py, PyDict>> {
    let d = FragLimits::default();
    let frag = FragLimits {
        max_datagrams: max_frag_datagrams.unwrap_or(d.max_datagrams),
        max_bytes: max_frag_bytes.unwrap_or(d.max_bytes),
        timeout: frag_timeout.unwrap_or(d.timeout),
    };
    let mut limits = Limits { max_flows, max_handshake_bytes, max_pending_bytes, max_certs, max_tombstones, frag,
                              ..Limits::default() };
    if let Some(n) = max_buffered_bytes {
        limits.max_buffered_bytes = n;
    }
    let report = keylog_source.map(|source| KeylogReport { source, entries: keylog_entries, warnings: keylog_warnings });
    // A panic would be a bug of ours: it becomes a RuntimeError (the CLI's "internal error", exit
    // 3), never a BaseException escaping `except Exception`.
    // streaming (`on_batch`): the callback's exception, which stops the reading
    let mut batch_error: Option<PyErr> = None;
    let batch_error_ref = &mut batch_error;
    let result = py.detach(move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || -> Result<Analysis, EngineError> {
        let keylog = keylog.map(|k| Arc::new(parse_keylog(&k)));
        if let (Some(p), None, None, None) = (&path, &data, fd, &on_batch) {
            // a file can be read again: on `threads` threads (None/0 = every core)
            return tlsinspect_core::parallel::analyze_path(std::path::Path::new(p), &ports, limits, keylog, report,
                                                           stream, threads.unwrap_or(0));
        }
        let reader = match (path, data, fd) {
            (_, Some(bytes), _) => CaptureReader::from_read(Box::new(std::io::Cursor::new(bytes)))?,
            (_, None, Some(fd)) => {
                // no unsafe from_raw_fd: the descriptor is reopened through /dev/fd
                let f = std::fs::File::open(format!("/dev/fd/{fd}")).map_err(|e| EngineError::Capture {
                    reason: format!("cannot read file descriptor {fd}: {e}"),
                    offset: None,
                })?;
                CaptureReader::from_read(Box::new(std::io::BufReader::new(f)))?
            }
            (Some(p), None, None) => open_file(std::path::Path::new(&p))?,
            (None, None, None) => {
                return Err(EngineError::Capture { reason: "no capture given (path, data or fd)".into(), offset: None })
            }
        };
        let Some(on_batch) = on_batch else {
            return analyze_reader_with(reader, &ports, limits, keylog, report, stream);
        };
        // each batch of ended flows goes to Python as it comes: memory holds the flows in flight
        let mut sink = |ended: Ended| {
            Python::attach(|py| {
                let handed = ended_dict(py, &ended, capture).and_then(|d| on_batch.call1(py, (d,)));
                handed.map_err(|e| *batch_error_ref = Some(e)).is_ok()
            })
        };
        analyze_reader_streaming(reader, &ports, limits, keylog, report, batch_size, &mut sink)
    })));
    if let Some(e) = batch_error {
        return Err(e);
    }
    match result {
        Ok(Ok(a)) => to_dict(py, &a, capture, columns),
        Ok(Err(e)) => Err(to_py_err(py, e)),
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(PyRuntimeError::new_err(format!("the Rust engine failed on {capture}: {what}")))
        }
    }
}

/// A fixed analysis built in Rust, for the adapter's tests (`tests/differential/test_rust_engine.py`): two
/// flows (one failed with a client chain of `der`, one with every optional column empty), their
/// events and the certificate, through the same conversion `analyze` uses.
#[pyfunction]
#[pyo3(signature = (der, capture = "fixture.pcap", columns = false))]
fn _sample_analysis<'py>(py: Python<'py>, der: Vec<u8>, capture: &str, columns: bool) -> PyResult<Bound<'py, PyDict>> {
    let a = py.detach(|| tlsinspect_core::engine::sample_analysis(der));
    to_dict(py, &a, capture, columns)
}

/// Raises the engine's error for `reason`/`offset`, for the error-mapping test.
#[pyfunction]
#[pyo3(signature = (reason, offset = None))]
fn _raise_capture_error(py: Python<'_>, reason: String, offset: Option<u64>) -> PyResult<()> {
    Err(to_py_err(py, EngineError::Capture { reason, offset }))
}

/// The stable codes of the engine's anomaly enums (TCP reassembly, flow eviction, QUIC packet and
/// frame parsing), for `inspector.weird`'s registry test. The `match`es are exhaustive: a new
/// variant does not compile until it is listed here.
#[pyfunction]
fn warning_codes() -> Vec<&'static str> {
    use tlsinspect_core::flow::ConnWarning as C;
    use tlsinspect_core::quic::frames::FrameError as F;
    use tlsinspect_core::quic::header::SplitError as S;
    use tlsinspect_core::tcp::TcpAnomaly as T;
    let tcp = [T::Midstream, T::ContentGap, T::OverlapDifferentData];
    let conn = [C::EvictedFlowTableFull, C::EvictedMemoryBudget];
    let split = [S::TruncatedHeader, S::LengthOverrun, S::CidTooLong, S::FixedBitClear];
    let frame = [F::Truncated { frame_type: 0 }, F::UnknownType { frame_type: 0 }];
    let mut codes = Vec::new();
    for w in tcp {
        match w { T::Midstream | T::ContentGap | T::OverlapDifferentData => codes.push(w.code()) }
    }
    for w in conn {
        match w { C::EvictedFlowTableFull | C::EvictedMemoryBudget => codes.push(w.code()) }
    }
    for w in split {
        match w { S::TruncatedHeader | S::LengthOverrun | S::CidTooLong | S::FixedBitClear => codes.push(w.code()) }
    }
    for w in frame {
        match w { F::Truncated { .. } | F::UnknownType { .. } => codes.push(w.code()) }
    }
    codes
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(_sample_analysis, m)?)?;
    m.add_function(wrap_pyfunction!(_raise_capture_error, m)?)?;
    m.add_function(wrap_pyfunction!(warning_codes, m)?)?;
    // the ports decoded as TLS even mid-connection (`inspector.domain.TLS_PORTS` equals it)
    m.add("DEFAULT_TLS_PORTS", tlsinspect_core::flow::DEFAULT_TLS_PORTS.to_vec())?;
    Ok(())
}
