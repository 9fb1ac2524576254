#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

include!("../targets/quic.rs");

static KEYLOG: OnceLock<Arc<KeyLog>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let log = (data.len() % 2 == 0).then(|| KEYLOG.get_or_init(quic_keylog).clone());
    let _ = fuzz_quic(data, log);
});
