//! The `use_srtp` extension (type 14, RFC 5764 4.1.1): SRTP protection profiles.

/// Extension type of use_srtp.
pub const USE_SRTP: u16 = 14;

/// IANA "DTLS-SRTP Protection Profiles" name, or `"0xNNNN"`.
pub fn profile_name(p: u16) -> String {
    let name = match p {
        0x0001 => "SRTP_AES128_CM_HMAC_SHA1_80",
        0x0002 => "SRTP_AES128_CM_HMAC_SHA1_32",
        0x0005 => "SRTP_NULL_HMAC_SHA1_80",
        0x0006 => "SRTP_NULL_HMAC_SHA1_32",
        0x0007 => "SRTP_AEAD_AES_128_GCM",
        0x0008 => "SRTP_AEAD_AES_256_GCM",
        0x0009 => "DOUBLE_AEAD_AES_128_GCM_AEAD_AES_128_GCM",
        0x000A => "DOUBLE_AEAD_AES_256_GCM_AEAD_AES_256_GCM",
        0x0011 => "SRTP_ARIA_128_CTR_HMAC_SHA1_80",
        0x0012 => "SRTP_ARIA_128_CTR_HMAC_SHA1_32",
        0x0013 => "SRTP_ARIA_256_CTR_HMAC_SHA1_80",
        0x0014 => "SRTP_ARIA_256_CTR_HMAC_SHA1_32",
        0x0015 => "SRTP_AEAD_ARIA_128_GCM",
        0x0016 => "SRTP_AEAD_ARIA_256_GCM",
        _ => return format!("0x{p:04x}"),
    };
    name.to_owned()
}

/// use_srtp body -> (profiles, MKI). `None` when malformed (odd or lying lengths).
pub fn parse_use_srtp(body: &[u8]) -> Option<(Vec<u16>, Vec<u8>)> {
    let n = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    if n % 2 == 1 {
        return None;
    }
    let list = body.get(2..2 + n)?;
    let mki_len = usize::from(*body.get(2 + n)?);
    let mki = body.get(3 + n..3 + n + mki_len)?;
    if 3 + n + mki_len != body.len() {
        return None;
    }
    Some((list.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect(), mki.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_mki() {
        assert_eq!(parse_use_srtp(&[0, 4, 0, 1, 0, 7, 0]), Some((vec![1, 7], vec![])));
        assert_eq!(parse_use_srtp(&[0, 2, 0, 2, 1, 0xAB]), Some((vec![2], vec![0xAB])));
        assert_eq!(parse_use_srtp(&[0, 3, 0, 1, 0, 0]), None);
        assert_eq!(parse_use_srtp(&[0, 4, 0, 1]), None);
        assert_eq!(profile_name(1), "SRTP_AES128_CM_HMAC_SHA1_80");
        assert_eq!(profile_name(0x0099), "0x0099");
    }
}
