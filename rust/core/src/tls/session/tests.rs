use super::*;

use super::handshake::snake;

#[test]
fn a_session_can_move_to_a_worker_thread() {
    fn send<T: Send + Sync>() {}
    send::<TLSSession>();
}

#[test]
fn snake_names() {
    assert_eq!(snake("CertificateRequest"), "certificate_request");
    assert_eq!(snake("handshake type 7"), "handshake_type_7");
    assert_eq!(snake("ClientHello"), "client_hello");
}

#[test]
fn side_map_keeps_dict_order() {
    let mut m = SideMap::new();
    m.insert(Side::B, 1);
    m.insert(Side::A, 2);
    m.insert(Side::B, 3);
    assert_eq!(m.iter().collect::<Vec<_>>(), vec![(Side::B, &3), (Side::A, &2)]);
    assert_eq!(*m.setdefault(Side::A, 9), 2);
    assert_eq!(m.remove(Side::B), Some(3));
    assert_eq!(m.len(), 1);
}

#[test]
fn tls13_versions() {
    assert!(is_tls13_version(Some(0x0304)));
    assert!(is_tls13_version(Some(0x7f17)));
    assert!(is_tls13_version(Some(0xfb1a)));
    assert!(!is_tls13_version(Some(0x0303)));
    assert!(!is_tls13_version(None));
}
