//! ClientHello (TLS and SSLv2-compatible) and ServerHello / HelloRetryRequest.

use super::reader::{Reader, R};
use super::{ext, malformed, text, u16s, warn, Extension, ParseError};
use crate::tls::names::HRR_RANDOM;

/// A parsed ClientHello. `extensions` are every extension in wire order (GREASE and unknown
/// ones included) as (type, body); the other fields interpret the first extension of each type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<Extension>,
    /// The first host_name of server_name, escaped to printable ASCII (`\xNN`).
    pub sni: Option<String>,
    pub sni_count: usize,
    pub alpn: Vec<String>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub key_share_groups: Vec<u16>,
    /// A non-empty session_ticket extension (a ticket offered for resumption).
    pub session_ticket: bool,
    pub psk: bool,
    pub early_data: bool,
    pub ech: bool,
    pub warnings: Vec<String>,
}

/// A parsed ServerHello or HelloRetryRequest (`is_hello_retry_request`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<Extension>,
    /// supported_versions when present (TLS 1.3), else `legacy_version`.
    pub selected_version: u16,
    pub is_hello_retry_request: bool,
    pub alpn: Option<String>,
    pub key_share_group: Option<u16>,
    pub extended_master_secret: bool,
    pub session_ticket_ext: bool,
    pub warnings: Vec<String>,
}

/// Read the 2-byte-length extensions block that ends a hello-like message.
/// A missing block is fine unless `required`; an overrun keeps the extensions that fit.
/// Consumes the rest of `r`.
pub(crate) fn read_extensions(
    r: &mut Reader<'_>,
    ws: &mut Vec<String>,
    required: bool,
) -> R<Vec<Extension>> {
    let mut left = r.left();
    if left == 0 {
        if required {
            return Err(ParseError::new("missing extensions", r.pos));
        }
        return Ok(Vec::new());
    }
    if left < 2 {
        warn(ws, "extension_overrun");
        r.pos = r.end;
        return Ok(Vec::new());
    }
    let mut n = usize::from(r.u16("extensions length")?);
    left -= 2;
    if n > left {
        warn(ws, "extension_overrun");
        n = left;
    } else if n < left {
        warn(ws, "trailing_data");
    }
    let buf = r.buf;
    let mut pos = r.pos;
    let end = pos + n;
    r.pos = r.end;
    let mut exts = Vec::new();
    while pos < end {
        if end - pos < 4 {
            warn(ws, "extension_overrun");
            break;
        }
        let etype = u16::from_be_bytes([buf[pos], buf[pos + 1]]);
        let elen = usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]));
        pos += 4;
        if elen > end - pos {
            warn(ws, "extension_overrun");
            break;
        }
        exts.push((etype, buf[pos..pos + elen].to_vec()));
        pos += elen;
    }
    Ok(exts)
}

/// The first extension of each type, in a list parallel to `exts` (`true` = first of its type);
/// warns `duplicate_extension` once.
pub(crate) fn first_of_each(exts: &[Extension], ws: &mut Vec<String>) {
    for (i, (t, _)) in exts.iter().enumerate() {
        if exts[..i].iter().any(|(u, _)| u == t) {
            warn(ws, "duplicate_extension");
            return;
        }
    }
}

/// The body of the first extension of type `t`.
pub(crate) fn get(exts: &[Extension], t: u16) -> Option<&[u8]> {
    exts.iter()
        .find(|(u, _)| *u == t)
        .map(|(_, d)| d.as_slice())
}

fn parse_server_names(data: &[u8], ws: &mut Vec<String>) -> R<(Option<String>, usize)> {
    let mut first: Option<String> = None;
    let mut count = 0usize;
    let res: R<()> = (|| {
        let mut r = Reader::new(data);
        let mut lr = r.sub16("server_name_list")?;
        r.expect_end("server_name_list")?;
        while lr.left() > 0 {
            let name_type = lr.u8("server name type")?;
            let name = lr.vec16("server name")?;
            if name_type != 0 {
                continue; // only host_name (0) is defined
            }
            count += 1;
            if first.is_none() {
                let (s, clean) = text(name);
                first = Some(s);
                if !clean || name.is_empty() {
                    warn(ws, "invalid_server_name");
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = res {
        if count == 0 {
            return Err(e);
        }
        malformed(ws, ext::SERVER_NAME);
    }
    if count == 0 {
        return Err(ParseError::new("no host_name in server_name", 0));
    }
    Ok((first, count))
}

/// Protocol names; a malformed tail keeps the names before it (and warns).
pub(crate) fn parse_alpn_list(data: &[u8], ws: &mut Vec<String>, etype: u16) -> R<Vec<String>> {
    let mut out = Vec::new();
    let res: R<()> = (|| {
        let mut r = Reader::new(data);
        let mut lr = r.sub16("protocol_name_list")?;
        r.expect_end("protocol_name_list")?;
        while lr.left() > 0 {
            let proto = lr.vec8("protocol name")?;
            if proto.is_empty() {
                malformed(ws, etype);
            }
            out.push(text(proto).0);
        }
        Ok(())
    })();
    if let Err(e) = res {
        if out.is_empty() {
            return Err(e);
        }
        malformed(ws, etype);
    }
    Ok(out)
}

/// The body of a vector with a `width`-byte length that must fill `data` exactly.
pub(crate) fn list_body<'a>(data: &'a [u8], width: usize, what: &str) -> R<&'a [u8]> {
    if data.len() < width {
        return Err(ParseError::new(
            format!(
                "truncated {what} length: need {width} bytes, {} left",
                data.len()
            ),
            0,
        ));
    }
    let n = data[..width]
        .iter()
        .fold(0usize, |a, &b| (a << 8) | usize::from(b));
    let rest = data.len() - width;
    if n > rest {
        return Err(ParseError::new(
            format!("truncated {what}: need {n} bytes, {rest} left"),
            width,
        ));
    }
    if n < rest {
        return Err(ParseError::new(
            format!("{} trailing bytes after {what}", rest - n),
            width + n,
        ));
    }
    Ok(&data[width..])
}

/// A u16 array that must have an even byte count.
pub(crate) fn u16_vector(data: &[u8], what: &str) -> R<Vec<u16>> {
    if data.len() & 1 == 1 {
        return Err(ParseError::new(
            format!("odd length {what}"),
            data.len() - 1,
        ));
    }
    Ok(u16s(data))
}

pub(crate) fn parse_u16_list16(data: &[u8], what: &str) -> R<Vec<u16>> {
    u16_vector(list_body(data, 2, what)?, what)
}

fn parse_u16_list8(data: &[u8], what: &str) -> R<Vec<u16>> {
    u16_vector(list_body(data, 1, what)?, what)
}

fn parse_u8_list8(data: &[u8], what: &str) -> R<Vec<u8>> {
    Ok(list_body(data, 1, what)?.to_vec())
}

/// Groups of the client's key shares; a malformed tail keeps the shares before it.
fn parse_client_key_share(data: &[u8], ws: &mut Vec<String>) -> Vec<u16> {
    let mut groups = Vec::new();
    let res: R<()> = (|| {
        let mut r = Reader::new(data);
        let mut lr = r.sub16("client_shares")?;
        r.expect_end("client_shares")?;
        while lr.left() > 0 {
            let group = lr.u16("key share group")?;
            lr.vec16("key_exchange")?;
            groups.push(group);
        }
        Ok(())
    })();
    if res.is_err() {
        malformed(ws, ext::KEY_SHARE);
    }
    groups
}

/// Parse a ClientHello body. `Err` only if the fixed fields (up to and including
/// compression_methods) are truncated; extension problems become warnings.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, ParseError> {
    let mut ws = Vec::new();
    let mut r = Reader::new(body);
    let legacy_version = r.u16("legacy_version")?;
    let random = r.take(32, "random")?;
    let session_id = r.vec8("session_id")?;
    if session_id.len() > 32 {
        warn(&mut ws, "session_id_too_long");
    }
    let cs_raw = r.vec16("cipher_suites")?;
    if cs_raw.len() & 1 == 1 {
        warn(&mut ws, "cipher_suites_odd_length");
    }
    let cipher_suites = u16s(cs_raw);
    if cipher_suites.is_empty() {
        warn(&mut ws, "no_cipher_suites");
    }
    let compression_methods = r.vec8("compression_methods")?.to_vec();
    if compression_methods.is_empty() {
        warn(&mut ws, "no_compression_methods");
    }
    let extensions = read_extensions(&mut r, &mut ws, false)?;
    let mut rnd = [0u8; 32];
    rnd.copy_from_slice(random);
    Ok(client_hello_from_extensions(
        legacy_version,
        rnd,
        session_id.to_vec(),
        cipher_suites,
        compression_methods,
        extensions,
        ws,
    ))
}

/// Interpret the field `etype` with `parse`, or `default` (and `malformed_<ext>`) on error.
fn field<T>(
    exts: &[Extension],
    ws: &mut Vec<String>,
    etype: u16,
    default: T,
    parse: impl FnOnce(&[u8], &mut Vec<String>) -> R<T>,
) -> T {
    match get(exts, etype) {
        None => default,
        Some(data) => match parse(data, ws) {
            Ok(v) => v,
            Err(_) => {
                malformed(ws, etype);
                default
            }
        },
    }
}

fn client_hello_from_extensions(
    legacy_version: u16,
    random: [u8; 32],
    session_id: Vec<u8>,
    cipher_suites: Vec<u16>,
    compression_methods: Vec<u8>,
    extensions: Vec<Extension>,
    mut ws: Vec<String>,
) -> ClientHello {
    let ws = &mut ws;
    first_of_each(&extensions, ws);
    let exts = extensions.as_slice();
    if get(exts, ext::PRE_SHARED_KEY).is_some()
        && exts.last().map(|(t, _)| *t) != Some(ext::PRE_SHARED_KEY)
    {
        warn(ws, "pre_shared_key_not_last");
    }
    let sni_ext = get(exts, ext::SERVER_NAME);
    let (sni, sni_count) = match sni_ext {
        Some(s)
            if s.len() > 5
                && s[2] == 0
                && usize::from(u16::from_be_bytes([s[0], s[1]])) == s.len() - 2
                && usize::from(u16::from_be_bytes([s[3], s[4]])) == s.len() - 5 =>
        {
            // the usual case: one host_name filling the extension
            let (name, clean) = text(&s[5..]);
            if !clean {
                warn(ws, "invalid_server_name");
            }
            (Some(name), 1)
        }
        _ => field(exts, ws, ext::SERVER_NAME, (None, 0), parse_server_names),
    };
    if sni_count > 1 {
        warn(ws, "many_server_names");
    }
    let alpn = field(exts, ws, ext::ALPN, Vec::new(), |d, w| {
        parse_alpn_list(d, w, ext::ALPN)
    });
    let supported_versions = field(exts, ws, ext::SUPPORTED_VERSIONS, Vec::new(), |d, _| {
        parse_u16_list8(d, "versions")
    });
    let supported_groups = field(exts, ws, ext::SUPPORTED_GROUPS, Vec::new(), |d, _| {
        parse_u16_list16(d, "named_group_list")
    });
    let ec_point_formats = field(exts, ws, ext::EC_POINT_FORMATS, Vec::new(), |d, _| {
        parse_u8_list8(d, "ec_point_format_list")
    });
    let signature_algorithms = field(exts, ws, ext::SIGNATURE_ALGORITHMS, Vec::new(), |d, _| {
        parse_u16_list16(d, "supported_signature_algorithms")
    });
    let key_share_groups = field(exts, ws, ext::KEY_SHARE, Vec::new(), |d, w| {
        Ok(parse_client_key_share(d, w))
    });
    let session_ticket = get(exts, ext::SESSION_TICKET).is_some_and(|d| !d.is_empty());
    let psk = get(exts, ext::PRE_SHARED_KEY).is_some();
    let early_data = get(exts, ext::EARLY_DATA).is_some();
    let ech = get(exts, ext::ENCRYPTED_CLIENT_HELLO).is_some();
    let warnings = std::mem::take(ws);
    ClientHello {
        legacy_version,
        random,
        session_id,
        cipher_suites,
        compression_methods,
        extensions,
        sni,
        sni_count,
        alpn,
        supported_versions,
        supported_groups,
        ec_point_formats,
        signature_algorithms,
        key_share_groups,
        session_ticket,
        psk,
        early_data,
        ech,
        warnings,
    }
}

/// Cheap check of the first bytes of a stream for an SSLv2 CLIENT-HELLO with a 2-byte header.
///
/// Looks at up to 11 bytes: header top bit, length >= 9, msg type 1, a plausible version
/// (0x0002 or 0x03xx), and, when present, consistent cipher_spec/session_id/challenge lengths.
pub fn is_sslv2_client_hello(data: &[u8]) -> bool {
    let n = data.len();
    if n < 3 || data[0] & 0x80 == 0 {
        return false;
    }
    let length = ((usize::from(data[0]) & 0x7F) << 8) | usize::from(data[1]);
    if length < 9 || data[2] != 1 {
        return false;
    }
    if n >= 5 {
        let (major, minor) = (data[3], data[4]);
        if !((major == 0 && minor == 2) || (major == 3 && minor <= 0x0F)) {
            return false;
        }
    }
    if n >= 11 {
        let be = |i: usize| (usize::from(data[i]) << 8) | usize::from(data[i + 1]);
        let (cs_len, sid_len, ch_len) = (be(5), be(7), be(9));
        if cs_len == 0 || cs_len % 3 != 0 || sid_len > 32 || !(16..=32).contains(&ch_len) {
            return false;
        }
        if 9 + cs_len + sid_len + ch_len > length {
            return false;
        }
    }
    true
}

/// Parse an SSLv2-format CLIENT-HELLO record (2-byte header included) into a ClientHello.
///
/// Cipher specs whose first byte is 0 are TLS cipher suites and are kept (in order); SSLv2-only
/// kinds are dropped. `random` is the challenge right-aligned in 32 zero bytes, as TLS defines.
/// Bytes after the record are ignored.
pub fn parse_sslv2_client_hello(record: &[u8]) -> Result<ClientHello, ParseError> {
    let buf = record;
    if buf.len() < 2 {
        return Err(ParseError::new("truncated SSLv2 record header", 0));
    }
    if buf[0] & 0x80 == 0 {
        return Err(ParseError::new("not a 2-byte SSLv2 record header", 0));
    }
    let length = ((usize::from(buf[0]) & 0x7F) << 8) | usize::from(buf[1]);
    if 2 + length > buf.len() {
        return Err(ParseError::new(
            format!("truncated SSLv2 record: header says {length} bytes"),
            buf.len(),
        ));
    }
    let mut ws = Vec::new();
    let mut r = Reader::span(buf, 2, 2 + length);
    let msg_type = r.u8("msg_type")?;
    if msg_type != 1 {
        return Err(ParseError::new(
            format!("SSLv2 message type {msg_type} is not CLIENT-HELLO"),
            2,
        ));
    }
    let version = r.u16("version")?;
    let cs_len = usize::from(r.u16("cipher_specs length")?);
    let sid_len = usize::from(r.u16("session_id length")?);
    let ch_len = usize::from(r.u16("challenge length")?);
    let specs = r.take(cs_len, "cipher_specs")?;
    let session_id = r.take(sid_len, "session_id")?;
    let challenge = r.take(ch_len, "challenge")?;
    if r.left() > 0 {
        warn(&mut ws, "trailing_data");
    }
    if cs_len % 3 != 0 {
        warn(&mut ws, "cipher_specs_invalid_length");
    }
    if !(16..=32).contains(&ch_len) {
        warn(&mut ws, "sslv2_challenge_length");
    }
    if sid_len > 32 {
        warn(&mut ws, "session_id_too_long");
    }
    let suites: Vec<u16> = specs
        .chunks_exact(3)
        .filter(|s| s[0] == 0)
        .map(|s| u16::from_be_bytes([s[1], s[2]]))
        .collect();
    if suites.is_empty() {
        warn(&mut ws, "no_cipher_suites");
    }
    let mut random = [0u8; 32];
    let tail = &challenge[challenge.len().saturating_sub(32)..];
    random[32 - tail.len()..].copy_from_slice(tail);
    Ok(client_hello_from_extensions(
        version,
        random,
        session_id.to_vec(),
        suites,
        vec![0],
        Vec::new(),
        ws,
    ))
}

const DOWNGRADE_TLS12: &[u8; 8] = b"DOWNGRD\x01";
const DOWNGRADE_TLS11: &[u8; 8] = b"DOWNGRD\x00";

/// Parse a ServerHello (or HelloRetryRequest) body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, ParseError> {
    let mut ws = Vec::new();
    let ws_ = &mut ws;
    let mut r = Reader::new(body);
    let legacy_version = r.u16("legacy_version")?;
    let random_raw = r.take(32, "random")?;
    let (session_id, cipher_suite, compression_method);
    if (0x7F00..0x7F16).contains(&legacy_version) {
        // TLS 1.3 drafts before 22: version, random, cipher_suite, extensions (no session_id,
        // no compression), and the version field is the negotiated one.
        session_id = Vec::new();
        compression_method = 0;
        cipher_suite = r.u16("cipher_suite")?;
    } else {
        let sid = r.vec8("session_id")?;
        if sid.len() > 32 {
            warn(ws_, "session_id_too_long");
        }
        session_id = sid.to_vec();
        cipher_suite = r.u16("cipher_suite")?;
        compression_method = r.u8("compression_method")?;
    }
    let extensions = read_extensions(&mut r, ws_, false)?;
    first_of_each(&extensions, ws_);
    let exts = extensions.as_slice();

    let mut selected_version = legacy_version;
    if let Some(data) = get(exts, ext::SUPPORTED_VERSIONS) {
        if data.len() == 2 {
            selected_version = u16::from_be_bytes([data[0], data[1]]);
        } else {
            malformed(ws_, ext::SUPPORTED_VERSIONS);
        }
    }

    let mut alpn = None;
    if let Some(data) = get(exts, ext::ALPN) {
        match parse_alpn_list(data, ws_, ext::ALPN) {
            Ok(protos) => {
                if protos.len() != 1 {
                    malformed(ws_, ext::ALPN);
                }
                alpn = protos.into_iter().next();
            }
            Err(_) => malformed(ws_, ext::ALPN),
        }
    }

    let mut key_share_group = None;
    let mut data = get(exts, ext::KEY_SHARE);
    if data.is_none() && (0x7F00..0x7F17).contains(&selected_version) {
        data = get(exts, ext::KEY_SHARE_DRAFT); // key_share was extension 40 until draft 23
    }
    if let Some(d) = data {
        // ServerHello: KeyShareEntry (group + key_exchange); HelloRetryRequest: just the group.
        if d.len() >= 2 {
            key_share_group = Some(u16::from_be_bytes([d[0], d[1]]));
        }
        if d.len() != 2
            && (d.len() < 4 || usize::from(u16::from_be_bytes([d[2], d[3]])) != d.len() - 4)
        {
            malformed(ws_, ext::KEY_SHARE);
        }
    }

    let tail = &random_raw[24..];
    if tail == DOWNGRADE_TLS12 {
        warn(ws_, "downgrade_sentinel_tls12");
    } else if tail == DOWNGRADE_TLS11 {
        warn(ws_, "downgrade_sentinel_tls11");
    }
    let mut random = [0u8; 32];
    random.copy_from_slice(random_raw);
    let extended_master_secret = get(exts, ext::EXTENDED_MASTER_SECRET).is_some();
    let session_ticket_ext = get(exts, ext::SESSION_TICKET).is_some();
    Ok(ServerHello {
        legacy_version,
        random,
        session_id,
        cipher_suite,
        compression_method,
        selected_version,
        is_hello_retry_request: random == HRR_RANDOM,
        alpn,
        key_share_group,
        extended_master_secret,
        session_ticket_ext,
        extensions,
        warnings: ws,
    })
}
