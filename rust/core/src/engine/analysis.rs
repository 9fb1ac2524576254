//! What the engine hands out: the [`Analysis`] of one capture (flow rows, distinct
//! certificates, events, messages, counters) and the one error type, [`EngineError`].

use std::collections::HashMap;
use std::fmt;

use super::table::TableHasher;

use crate::flow::{EventRecord, FlowRecord};

/// A distinct certificate: its DER crosses to Python once, with the flows that sent it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CertSeen {
    pub der: Vec<u8>,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    pub flow_ids: Vec<u64>,
    /// "server"/"server_chain"/"client"/"client_chain", in the order first seen.
    pub roles: Vec<&'static str>,
}

impl CertSeen {
    /// Note that `flow_id` sent this certificate at `pos` in its `chain` ("server" or "client")
    /// chain: the flow once, and the role label (leaf or chain) once.
    pub fn note(&mut self, flow_id: u64, chain: &str, pos: usize) {
        if self.flow_ids.last() != Some(&flow_id) {
            self.flow_ids.push(flow_id);
        }
        let label = match (chain, pos) {
            ("server", 0) => "server",
            ("server", _) => "server_chain",
            (_, 0) => "client",
            _ => "client_chain",
        };
        if !self.roles.contains(&label) {
            self.roles.push(label);
        }
    }
}

/// The position of certificate `sha256` in the certificates table, found through `index`;
/// a certificate not seen before is added, with the DER `der` gives.
pub fn cert_entry(certs: &mut Vec<CertSeen>, index: &mut HashMap<String, usize, TableHasher>,
                  sha256: &str, der: impl FnOnce() -> Vec<u8>) -> usize {
    if let Some(&i) = index.get(sha256) {
        return i;
    }
    certs.push(CertSeen { der: der(), sha256: sha256.to_owned(), flow_ids: Vec::new(), roles: Vec::new() });
    index.insert(sha256.to_owned(), certs.len() - 1);
    certs.len() - 1
}

/// Counters, kept in the order each was first incremented (as Python's `Counter`).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    entries: Vec<(String, u64)>,
    /// The clock (see [`crate::parallel`]) when each entry was first incremented: what lets
    /// the threads' counters merge in one thread's order. Not part of equality.
    pub(crate) first: Vec<u64>,
    pub(crate) clock: u64,
}

impl PartialEq for Stats {
    fn eq(&self, other: &Stats) -> bool {
        self.entries == other.entries
    }
}

impl Stats {
    pub fn add(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 += n;
        } else {
            self.entries.push((key.to_string(), n));
            self.first.push(self.clock);
        }
    }

    /// (key, value, clock first incremented), in order.
    pub(crate) fn entries_with_clock(&self) -> impl Iterator<Item = (&str, u64, u64)> {
        self.entries.iter().zip(self.first.iter()).map(|((k, v), c)| (k.as_str(), *v, *c))
    }

    pub fn get(&self, key: &str) -> u64 {
        self.entries.iter().find(|(k, _)| k == key).map_or(0, |e| e.1)
    }

    /// Sets a counter (kept in place when it exists).
    pub fn set(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 = n;
        } else {
            self.entries.push((key.to_string(), n));
            self.first.push(self.clock);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// What one capture yielded: rows for the three tables plus counters.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Analysis {
    pub flows: Vec<FlowRecord>,
    /// Distinct certificates in the order first seen.
    pub certificates: Vec<CertSeen>,
    pub events: Vec<EventRecord>,
    /// The ladder's arrows, each flow's in the order seen, flows in id order (empty in streaming
    /// mode, as the Python engine's `Analysis.messages`).
    pub messages: Vec<MessageRecord>,
    pub stats: Stats,
    /// "code: detail" lines, as the Python engine's `capture_warnings`.
    pub capture_warnings: Vec<String>,
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    pub frames: u64,
    /// "pcap", "pcapng" (with ".gz" when compressed), as the reader names it.
    pub format: String,
    pub bytes_read: u64,
}

/// One `messages` row (Python's `MessageRecord`): a handshake message, ChangeCipherSpec, alert,
/// application data record or TCP event of a flow, with its sender.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MessageRecord {
    pub flow_id: u64,
    pub frame: u64,
    pub ts: f64,
    /// `"client"` or `"server"`.
    pub sender: &'static str,
    pub kind: &'static str,
    pub name: String,
}

/// The one error type of the engine: the capture cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// Not a capture, broken before the first packet, or an I/O error opening it. The message is
    /// the Python engine's `CaptureError` reason; `offset` the byte where reading stopped.
    Capture { reason: String, offset: Option<u64> },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Capture { reason, offset: Some(o) } => write!(f, "{reason} at byte {o}"),
            EngineError::Capture { reason, offset: None } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// Lower-case hex SHA-256 of `der`: the key linking flows to certificates.
pub fn sha256_hex(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(der))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_one_entry_with_each_flow_and_role_once() {
        let (mut certs, mut index) = (Vec::new(), HashMap::default());
        let leaf = |certs: &mut Vec<CertSeen>, index: &mut HashMap<String, usize, TableHasher>| {
            cert_entry(certs, index, "ab", || b"der".to_vec())
        };
        let i = leaf(&mut certs, &mut index);
        certs[i].note(1, "server", 0);
        certs[i].note(1, "server", 0);
        let j = leaf(&mut certs, &mut index);
        certs[j].note(2, "client", 1);
        certs[j].note(3, "server", 2);
        assert_eq!((i, j, certs.len()), (0, 0, 1));
        assert_eq!(certs[0].der, b"der");
        assert_eq!(certs[0].flow_ids, [1, 2, 3]);
        assert_eq!(certs[0].roles, ["server", "client_chain", "server_chain"]);
    }
}
