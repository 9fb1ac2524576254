//! `ca_name_to_str`: a DER-encoded X.501 Name (as in CertificateRequest) -> RFC 4514 string,
//! formatted the way the Python engine does (`inspector/tls/messages.py`, which follows
//! `cryptography`'s `x509.Name.rfc4514_string()`: short labels CN/L/ST/O/OU/C/STREET/DC/UID,
//! dotted OIDs otherwise, the same escapes, `#hex` for values that are not decodable strings).

/// One DER TLV at `pos`: (tag, content start, content end).
fn der_tlv(buf: &[u8], pos: usize, end: usize) -> Option<(u8, usize, usize)> {
    if end.checked_sub(pos)? < 2 {
        return None;
    }
    let tag = buf[pos];
    if tag & 0x1F == 0x1F {
        return None; // high-tag-number form never appears in a Name
    }
    let mut n = usize::from(buf[pos + 1]);
    let mut pos = pos + 2;
    if n & 0x80 != 0 {
        let k = n & 0x7F;
        // indefinite length is not DER; names are < 64 KiB
        if k == 0 || k > 3 || end - pos < k {
            return None;
        }
        n = buf[pos..pos + k]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        pos += k;
    }
    if end - pos < n {
        return None;
    }
    Some((tag, pos, pos + n))
}

/// The dotted form of an OID's content octets, or `None` where the Python engine gives up
/// (empty, over 64 bytes, a cut subidentifier) or `cryptography` refuses the OID (a
/// subidentifier over 128 bits, an encoding over 63 bytes).
fn oid_dotted(raw: &[u8]) -> Option<String> {
    if raw.is_empty() || raw.len() > 64 || raw[raw.len() - 1] & 0x80 != 0 {
        return None;
    }
    let mut arcs: Vec<u128> = Vec::new();
    let mut v: u128 = 0;
    let mut overflow = false;
    for &b in raw {
        if v >> 121 != 0 {
            overflow = true;
        }
        v = (v << 7) | u128::from(b & 0x7F);
        if b & 0x80 == 0 {
            arcs.push(v);
            v = 0;
        }
    }
    if overflow {
        return None;
    }
    let encoded: usize = arcs
        .iter()
        .map(|&a| ((128 - a.leading_zeros() as usize).max(1) + 6) / 7)
        .sum();
    if encoded > 63 {
        return None;
    }
    let first = arcs[0];
    let head = if first < 40 {
        format!("0.{first}")
    } else if first < 80 {
        format!("1.{}", first - 40)
    } else {
        format!("2.{}", first - 80)
    };
    let mut s = head;
    for a in &arcs[1..] {
        s.push('.');
        s.push_str(&a.to_string());
    }
    Some(s)
}

fn label(dotted: &str) -> &str {
    match dotted {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => other,
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

fn utf16be(b: &[u8]) -> Option<String> {
    if b.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

fn utf32be(b: &[u8]) -> Option<String> {
    if b.len() % 4 != 0 {
        return None;
    }
    b.chunks_exact(4)
        .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect()
}

/// The value's text, for the string types a Name uses. ASCII-only types often carry UTF-8 or
/// Latin-1 in the wild: UTF-8 first, Latin-1 as the last resort.
fn decode(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        0x0C => std::str::from_utf8(value).ok().map(str::to_owned), // UTF8String
        0x12 | 0x13 | 0x16 | 0x1A => {
            // Numeric, Printable, IA5, Visible
            Some(std::str::from_utf8(value).map_or_else(|_| latin1(value), str::to_owned))
        }
        0x14 => Some(latin1(value)), // T61String, treated as Latin-1
        0x1C => utf32be(value),      // UniversalString
        0x1E => utf16be(value),      // BMPString
        _ => None,
    }
}

/// RFC 4514 escapes, as cryptography's `_escape_dn_value`.
fn escape(val: &str) -> String {
    if val.is_empty() {
        return String::new();
    }
    let mut s = String::with_capacity(val.len() + 4);
    for c in val.chars() {
        match c {
            '\\' | '"' | '+' | ',' | ';' | '<' | '>' => {
                s.push('\\');
                s.push(c);
            }
            '\0' => s.push_str("\\00"),
            _ => s.push(c),
        }
    }
    if s.starts_with('#') || (s.starts_with(' ') && s.chars().nth(1).is_some()) {
        s.insert(0, '\\');
    }
    if s.ends_with(' ') {
        s.pop();
        s.push_str("\\ ");
    }
    s
}

fn name_to_str(buf: &[u8]) -> Option<String> {
    let (tag, mut pos, end) = der_tlv(buf, 0, buf.len())?;
    if tag != 0x30 || end != buf.len() {
        return None;
    }
    let mut rdns: Vec<String> = Vec::new();
    while pos < end {
        // RDNSequence: SEQUENCE OF SET OF AttributeTypeAndValue
        let (tag, mut spos, send) = der_tlv(buf, pos, end)?;
        if tag != 0x31 {
            return None;
        }
        pos = send;
        let mut attrs: Vec<String> = Vec::new();
        while spos < send {
            let (tag, apos, aend) = der_tlv(buf, spos, send)?;
            if tag != 0x30 {
                return None;
            }
            spos = aend;
            let (tag, opos, oend) = der_tlv(buf, apos, aend)?;
            if tag != 0x06 {
                return None;
            }
            let (vtag, vpos, vend) = der_tlv(buf, oend, aend)?;
            if vend != aend {
                return None;
            }
            let dotted = oid_dotted(&buf[opos..oend])?;
            let lab = label(&dotted);
            attrs.push(match decode(vtag, &buf[vpos..vend]) {
                Some(text) => format!("{lab}={}", escape(&text)),
                // RFC 4514 2.4: "#" + hex of the BER encoding of the value
                None => format!("{lab}=#{}", hex::encode(&buf[oend..vend])),
            });
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// A DER-encoded X.501 Name (as in CertificateRequest) -> RFC 4514 string, as the Python
/// engine formats it. Never fails: undecodable input gives `"<undecodable name: 3082…>"`.
///
/// One deliberate difference: an OID whose first subidentifier is just under 2**128 makes
/// `cryptography` (and so the Python engine) panic; here it is undecodable like any other OID
/// `cryptography` refuses.
pub fn ca_name_to_str(der_name: &[u8]) -> String {
    name_to_str(der_name).unwrap_or_else(|| {
        let more = if der_name.len() > 32 { "…" } else { "" };
        format!(
            "<undecodable name: {}{more}>",
            hex::encode(&der_name[..der_name.len().min(32)])
        )
    })
}
