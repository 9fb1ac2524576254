//! RADIUS (RFC 2865) packets as far as EAP needs them (RFC 3579): code, identifier,
//! attributes, the EAP-Message attributes (79) concatenated.

pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const ACCOUNTING_REQUEST: u8 = 4;
pub const ACCOUNTING_RESPONSE: u8 = 5;
pub const ACCESS_CHALLENGE: u8 = 11;

pub const ATTR_USER_NAME: u8 = 1;
pub const ATTR_STATE: u8 = 24;
pub const ATTR_CALLING_STATION_ID: u8 = 31;
pub const ATTR_EAP_MESSAGE: u8 = 79;
pub const ATTR_MESSAGE_AUTHENTICATOR: u8 = 80;

/// The usual RADIUS authentication ports.
pub const PORTS: [u16; 2] = [1812, 1645];

pub fn code_name(code: u8) -> String {
    let n = match code {
        1 => "Access-Request",
        2 => "Access-Accept",
        3 => "Access-Reject",
        4 => "Accounting-Request",
        5 => "Accounting-Response",
        11 => "Access-Challenge",
        12 => "Status-Server",
        13 => "Status-Client",
        _ => return format!("code {code}"),
    };
    n.to_owned()
}

/// A RADIUS packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RadiusPacket<'a> {
    pub code: u8,
    pub id: u8,
    pub authenticator: &'a [u8],
    /// (type, value) in order.
    pub attributes: Vec<(u8, &'a [u8])>,
    /// The EAP-Message attributes' values concatenated (RFC 3579 3.1): one EAP packet.
    pub eap: Vec<u8>,
    /// Attributes that ran past the packet (the ones before are kept).
    pub truncated: bool,
}

impl<'a> RadiusPacket<'a> {
    pub fn attr(&self, t: u8) -> Option<&'a [u8]> {
        self.attributes.iter().find(|(a, _)| *a == t).map(|(_, v)| *v)
    }
}

/// RADIUS's maximum packet.
pub const MAX_PACKET: usize = 4096;

/// Parse a RADIUS packet; `None` when shorter than its 20-byte header or its length is
/// outside 20..=4096 or past the datagram.
pub fn parse_radius(b: &[u8]) -> Option<RadiusPacket<'_>> {
    let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    if !(20..=MAX_PACKET).contains(&len) {
        return None;
    }
    let p = b.get(..len)?;
    let mut attributes = Vec::new();
    let mut eap = Vec::new();
    let mut truncated = false;
    let mut i = 20;
    while i < p.len() {
        let (Some(&t), Some(&l)) = (p.get(i), p.get(i + 1)) else {
            truncated = true;
            break;
        };
        let l = usize::from(l);
        let Some(v) = p.get(i + 2..i + l).filter(|_| l >= 2) else {
            truncated = true;
            break;
        };
        if t == ATTR_EAP_MESSAGE {
            eap.extend_from_slice(v);
        }
        attributes.push((t, v));
        i += l;
    }
    Some(RadiusPacket { code: p[0], id: p[1], authenticator: &p[4..20], attributes, eap, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eap_message_attributes_concatenated() {
        let mut p = vec![11, 7, 0, 0];
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&[79, 5, 1, 2, 0]);
        p.extend_from_slice(&[24, 4, 0xAA, 0xBB]);
        p.extend_from_slice(&[79, 4, 6, 13]);
        let n = p.len() as u16;
        p[2..4].copy_from_slice(&n.to_be_bytes());
        let r = parse_radius(&p).unwrap();
        assert_eq!((r.code, r.id), (ACCESS_CHALLENGE, 7));
        assert_eq!(r.eap, vec![1, 2, 0, 6, 13]);
        assert_eq!(r.attr(ATTR_STATE), Some(&[0xAA, 0xBB][..]));
        assert!(!r.truncated);
        for n in 0..p.len() {
            let _ = parse_radius(&p[..n]);
        }
        let mut bad = p.clone();
        bad[20 + 1] = 0; // zero-length attribute
        assert!(parse_radius(&bad).unwrap().truncated);
    }
}
