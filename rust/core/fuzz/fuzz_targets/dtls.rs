#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../targets/dtls.rs");

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_dtls(data);
});
