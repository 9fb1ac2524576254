#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

include!("../targets/tls_session.rs");

static KEYLOG: OnceLock<Arc<KeyLog>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // odd-length inputs without the key log, even-length ones with it
    let log = (data.len() % 2 == 0).then(|| KEYLOG.get_or_init(fixed_keylog).clone());
    let _ = fuzz_tls_session(data, log);
});
