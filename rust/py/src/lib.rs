//! The extension module `inspector._core`: a thin layer over `tlsinspect_core`.
//!
//! One call per capture (`analyze`) runs the whole engine with the GIL released and returns the
//! flows, events and distinct certificates as pyarrow `RecordBatch`es (no Python object per
//! packet or per field; `batches`), or as name -> list dicts (`columns`), plus counters; with
//! `on_batch` it hands the ended flows over while it reads (streaming). `inspector/_core.pyi` documents the interface and
//! `inspector/engines/rust.py` turns it into the `inspector.engines.python.Analysis` the Python engine
//! returns. Errors: `EngineError` becomes `inspector.errors.CaptureError` (same messages).
#![forbid(unsafe_code)]

mod batches;
mod columns;

use batches::{arrow_err, certs_batch, events_batch, flows_batch, messages_batch};
use columns::{cert_columns, event_columns, flow_columns, message_columns};

use std::sync::Arc;

use arrow_pyarrow::ToPyArrow;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use tlsinspect_core::capture::CaptureReader;
use tlsinspect_core::engine::{analyze_reader_streaming, analyze_reader_with, open_file, Analysis, Ended, EngineError,
                              KeylogReport};
use tlsinspect_core::ip::FragLimits;
use tlsinspect_core::flow::Limits;
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
                    keylog_warnings = Vec::new(), threads = None, on_batch = None, batch_size = 1000,
                    pipe = false))]
#[allow(clippy::too_many_arguments)]
fn analyze<'py>(py: Python<'py>, path: Option<String>, data: Option<Vec<u8>>, fd: Option<i32>,
                capture: &str, ports: Vec<u16>, max_flows: usize, max_handshake_bytes: usize,
                max_pending_bytes: usize, max_certs: usize, max_tombstones: usize,
                keylog: Option<Vec<u8>>, stream: bool, columns: bool, max_frag_datagrams: Option<usize>,
                max_frag_bytes: Option<usize>, frag_timeout: Option<f64>, keylog_source: Option<String>,
                keylog_entries: usize, max_buffered_bytes: Option<usize>,
                keylog_warnings: Vec<(String, String)>, threads: Option<usize>, on_batch: Option<Py<PyAny>>,
                batch_size: usize, pipe: bool) -> PyResult<Bound<'py, PyDict>> {
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
        if let (Some(p), None, None, None, false) = (&path, &data, fd, &on_batch, pipe) {
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
                CaptureReader::from_stream(Box::new(f), format!("/dev/fd/{fd}"))?
            }
            // a pipe (stdin, a FIFO) by its path, as the Python reader opens it: read as its packets come
            (Some(p), None, None) if pipe => CaptureReader::open(std::path::Path::new(&p))?,
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
