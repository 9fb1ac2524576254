//! A [`CaptureReader`] through the [`Analyzer`]: the capture's packets, its pcapng Decryption
//! Secrets Blocks on top of `--keylog`, and the reader's warnings.

use std::sync::Arc;

use super::{Analysis, Analyzer, Ended, EngineError, KeylogReport};
use crate::capture::{CaptureError, CaptureReader};
use crate::flow::Limits;
use crate::tls::decrypt::{parse_keylog, KeyLog};

/// A capture through the engine, as `inspector.api._run` does it: a capture broken after some
/// packets keeps them, with a `capture_truncated` warning; broken before any is an error.
pub fn analyze_reader(reader: CaptureReader, ports: &[u16], limits: Limits,
                      keylog: Option<Arc<KeyLog>>, stream: bool) -> Result<Analysis, EngineError> {
    analyze_reader_with(reader, ports, limits, keylog, None, stream)
}

/// [`analyze_reader`], with the key log file's report (its warnings and `keylog_unmatched`).
pub fn analyze_reader_with(reader: CaptureReader, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
                           keylog_report: Option<KeylogReport>, stream: bool) -> Result<Analysis, EngineError> {
    read_all(reader, ports, limits, keylog, keylog_report, stream, &mut |_| true)
}

/// [`analyze_reader_with`] in streaming mode, handing the flows over as they end: whenever
/// `batch` flows have ended they go to `sink` with their events and the certificates new since
/// the previous batch ([`Ended`]); `sink` returning false stops the reading.  The [`Analysis`]
/// returned holds the flows that ended after the last batch, the capture-level warnings and the
/// whole certificates table.
pub fn analyze_reader_streaming(reader: CaptureReader, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
                                keylog_report: Option<KeylogReport>, batch: usize,
                                sink: &mut dyn FnMut(Ended) -> bool) -> Result<Analysis, EngineError> {
    let batch = batch.max(1);
    read_all(reader, ports, limits, keylog, keylog_report, true, &mut |a: &mut Analyzer| {
        a.ended() < batch || sink(a.take_ended())
    })
}

/// The capture through the analyzer; `after_packet` is asked after each packet whether to go on.
fn read_all(mut reader: CaptureReader, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
            keylog_report: Option<KeylogReport>, stream: bool,
            after_packet: &mut dyn FnMut(&mut Analyzer) -> bool) -> Result<Analysis, EngineError> {
    let keylog = keylog.filter(|k| !k.is_empty()); // an empty key log decrypts nothing (Python's Analyzer)
    let base = keylog.clone();
    let mut analyzer = Analyzer::new(ports, limits, keylog);
    analyzer.stream = stream;
    analyzer.keylog_report = keylog_report;
    let mut truncated: Option<CaptureError> = None;
    let mut dsb_seen = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => analyzer.packet_len(p.ts, p.linktype, p.data, p.orig_len as usize),
            Ok(None) => break,
            Err(e) => {
                if analyzer.frames() == 0 {
                    return Err(EngineError::from(e));
                }
                truncated = Some(e);
                break;
            }
        }
        if !after_packet(&mut analyzer) {
            break;
        }
        if reader.keylog.len() != dsb_seen {
            // pcapng Decryption Secrets Blocks: their key log on top of --keylog
            dsb_seen = reader.keylog.len();
            let mut merged = base.as_deref().cloned().unwrap_or_default();
            merged.merge(parse_keylog(&reader.keylog));
            analyzer.set_keylog(Arc::new(merged));
        }
    }
    let mut warnings: Vec<(String, String)> =
        reader.warnings.iter().map(|w| (w.code.clone(), w.detail.clone())).collect();
    if let Some(e) = truncated {
        warnings.push(("capture_truncated".into(), format!("reading stopped: {}", e.message)));
    }
    let mut a = analyzer.finish(&warnings);
    a.format = reader.format.clone();
    a.bytes_read = reader.bytes_read;
    Ok(a)
}

/// Opens a capture file as the Python engine does: a FIFO, device or socket given by path is
/// refused (`CaptureReader::open` would read it as a stream, and a FIFO with no writer blocks);
/// streams come in through `CaptureReader::from_read` instead.
pub fn open_file(path: &std::path::Path) -> Result<CaptureReader, EngineError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            return Err(EngineError::Capture {
                reason: format!("{} is not a regular file (FIFO, device or socket)", path.display()),
                offset: None,
            });
        }
    }
    Ok(CaptureReader::open(path)?)
}

impl From<CaptureError> for EngineError {
    /// The reader's message is the whole text ("REASON at byte N" when the offset is known).
    fn from(e: CaptureError) -> EngineError {
        let suffix = format!(" at byte {}", e.offset);
        match e.message.strip_suffix(&suffix) {
            Some(reason) => EngineError::Capture { reason: reason.to_string(), offset: Some(e.offset) },
            None => EngineError::Capture { reason: e.message, offset: None },
        }
    }
}
