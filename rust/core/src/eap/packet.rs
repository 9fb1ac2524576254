//! EAPOL (IEEE 802.1X-2010 11.3), EAP (RFC 3748 4) and the EAP-TLS header (RFC 5216 3.1, also
//! PEAP, EAP-TTLS and EAP-FAST, whose flags byte carries a version in its low bits).

/// Ethertype of EAPOL.
pub const ETHERTYPE_EAPOL: u16 = 0x888E;

/// EAPOL packet types.
pub const EAPOL_EAP_PACKET: u8 = 0;
pub const EAPOL_START: u8 = 1;
pub const EAPOL_LOGOFF: u8 = 2;
pub const EAPOL_KEY: u8 = 3;

/// EAP codes.
pub const EAP_REQUEST: u8 = 1;
pub const EAP_RESPONSE: u8 = 2;
pub const EAP_SUCCESS: u8 = 3;
pub const EAP_FAILURE: u8 = 4;

/// EAP method types.
pub const TYPE_IDENTITY: u8 = 1;
pub const TYPE_NAK: u8 = 3;
pub const TYPE_TLS: u8 = 13;
pub const TYPE_TTLS: u8 = 21;
pub const TYPE_PEAP: u8 = 25;
pub const TYPE_FAST: u8 = 43;

/// EAP-TLS flags.
pub const FLAG_L: u8 = 0x80;
pub const FLAG_M: u8 = 0x40;
pub const FLAG_S: u8 = 0x20;

/// The method's name, for the TLS-based ones and a few others.
pub fn method_name(t: u8) -> String {
    let n = match t {
        1 => "Identity",
        2 => "Notification",
        3 => "Nak",
        4 => "MD5-Challenge",
        6 => "GTC",
        13 => "EAP-TLS",
        17 => "LEAP",
        18 => "EAP-SIM",
        21 => "EAP-TTLS",
        23 => "EAP-AKA",
        25 => "PEAP",
        26 => "MSCHAPv2",
        43 => "EAP-FAST",
        52 => "EAP-PWD",
        55 => "TEAP",
        _ => return format!("type {t}"),
    };
    n.to_owned()
}

/// Is `t` a method that runs a TLS handshake with the EAP-TLS framing?
pub fn tls_based(t: u8) -> bool {
    matches!(t, TYPE_TLS | TYPE_TTLS | TYPE_PEAP | TYPE_FAST | 55)
}

/// An EAPOL frame (the Ethernet payload after the 0x888E ethertype).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eapol<'a> {
    pub version: u8,
    pub packet_type: u8,
    /// The body, `length` bytes (Ethernet padding removed).
    pub body: &'a [u8],
}

/// Parse an EAPOL frame; `None` when shorter than its header or its declared length.
pub fn parse_eapol(b: &[u8]) -> Option<Eapol<'_>> {
    let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    Some(Eapol { version: b[0], packet_type: b[1], body: b.get(4..4 + len)? })
}

/// The EAP-TLS part of a Request or Response of a TLS-based method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPart<'a> {
    pub flags: u8,
    /// The low 3 bits of the flags byte: PEAP / TTLS / FAST version (0 for EAP-TLS).
    pub method_version: u8,
    /// TLS Message Length, when the L flag is set.
    pub tls_length: Option<u32>,
    pub data: &'a [u8],
}

impl TlsPart<'_> {
    pub fn more(&self) -> bool {
        self.flags & FLAG_M != 0
    }
    pub fn start(&self) -> bool {
        self.flags & FLAG_S != 0
    }
}

/// An EAP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EapPacket<'a> {
    pub code: u8,
    pub id: u8,
    /// Method type of a Request or Response.
    pub method: Option<u8>,
    /// Type-data of a Request or Response (after the type byte).
    pub data: &'a [u8],
    /// The whole packet, `length` bytes.
    pub raw: &'a [u8],
}

/// Why an EAP packet did not parse.
pub const BAD_EAP: &str = "bad_eap_packet";

/// Parse an EAP packet; trailing bytes after its length are ignored. `Err` names what is wrong.
pub fn parse_eap(b: &[u8]) -> Result<EapPacket<'_>, &'static str> {
    let h = b.get(..4).ok_or("EAP header truncated")?;
    let code = h[0];
    let id = h[1];
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 4 {
        return Err("EAP length shorter than its header");
    }
    let raw = b.get(..len).ok_or("EAP packet shorter than its length")?;
    match code {
        EAP_REQUEST | EAP_RESPONSE => {
            let method = *raw.get(4).ok_or("EAP Request/Response without a type")?;
            Ok(EapPacket { code, id, method: Some(method), data: &raw[5..], raw })
        }
        EAP_SUCCESS | EAP_FAILURE => Ok(EapPacket { code, id, method: None, data: &raw[4..], raw }),
        _ => Err("unknown EAP code"),
    }
}

/// The EAP-TLS header and data of a TLS-based method's type-data.
pub fn parse_tls_part(data: &[u8]) -> Result<TlsPart<'_>, &'static str> {
    let Some(&flags) = data.first() else {
        return Err("EAP-TLS packet without flags");
    };
    let mut at = 1;
    let tls_length = if flags & FLAG_L != 0 {
        let l = data.get(1..5).ok_or("EAP-TLS Message Length truncated")?;
        at = 5;
        Some(u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
    } else {
        None
    };
    Ok(TlsPart { flags, method_version: flags & 0x07, tls_length, data: &data[at..] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eapol_eap_tls_fragment() {
        // EAPOL v2 EAP-Packet: Request id 5 EAP-TLS, L+M, length 1000, 3 bytes of data
        let f = [2, 0, 0, 13, 1, 5, 0, 13, 13, 0xC0, 0, 0, 3, 0xE8, 22, 3, 3, 0, 0];
        let e = parse_eapol(&f).unwrap();
        assert_eq!((e.version, e.packet_type, e.body.len()), (2, 0, 13));
        let p = parse_eap(e.body).unwrap();
        assert_eq!((p.code, p.id, p.method), (1, 5, Some(13)));
        let t = parse_tls_part(p.data).unwrap();
        assert_eq!(t.tls_length, Some(1000));
        assert!(t.more() && !t.start());
        assert_eq!(t.data, &[22, 3, 3]);
        for n in 0..f.len() {
            if let Some(e) = parse_eapol(&f[..n]) {
                if let Ok(p) = parse_eap(e.body) {
                    let _ = parse_tls_part(p.data);
                }
            }
        }
        assert!(parse_eap(&[1, 1, 0, 3]).is_err());
        assert_eq!(parse_eap(&[3, 9, 0, 4, 0, 0]).unwrap().code, EAP_SUCCESS);
    }
}
