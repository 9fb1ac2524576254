#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../targets/tcp.rs");

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_tcp(data);
});
