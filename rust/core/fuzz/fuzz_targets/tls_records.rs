#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../targets/tls_records.rs");

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_tls_records(data);
});
