//! The tables as name -> list dicts (`analyze(..., columns=True)`, and each streamed batch).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use tlsinspect_core::engine::{CertSeen, MessageRecord, TableHasher};
use tlsinspect_core::flow::{EventRecord, FlowRecord};

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

pub(crate) fn flow_columns<'py>(py: Python<'py>, flows: &[FlowRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
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

pub(crate) fn event_columns<'py>(py: Python<'py>, events: &[EventRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
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

pub(crate) fn message_columns<'py>(py: Python<'py>, messages: &[MessageRecord], capture: &str) -> PyResult<Bound<'py, PyDict>> {
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

pub(crate) fn cert_columns<'py>(py: Python<'py>, certs: &[CertSeen]) -> PyResult<Bound<'py, PyDict>> {
    let c = Columns::new(py);
    c.col("sha256", certs.iter().map(|x| x.sha256.as_str()))?;
    c.col("der", certs.iter().map(|x| PyBytes::new(py, &x.der)))?;
    c.lists("flow_ids", certs, |x| x.flow_ids.iter().copied())?;
    c.str_lists("roles", certs, |x| x.roles.iter().copied())?;
    Ok(c.d)
}
